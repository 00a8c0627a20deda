import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import { pino } from 'pino';
import { ProtocolError, type IceServer } from '@pinhole/protocol';
import { mintToken, roomAllowed, type Grant, type Permission } from './auth.js';
import { bearerGrant } from './bearer.js';
import { MemoryBus } from './bus/memory.js';
import { ClusterHub } from './cluster/cluster-hub.js';
import type { CoreConfig, CoreDeps, HubCore, SessionHandle } from './core.js';
import { ConnectionTracker } from './connections.js';
import * as d from './defaults.js';
import type { HubOptions, HubParts, ResolvedHubOptions } from './defaults.js';
import { Hub } from './hub.js';
import { HubRouter, type RouterContext } from './http.js';
import { iceServersFor } from './ice.js';
import { sendProtocolError } from './http-util.js';
import { createMetrics, type HubMetrics } from './metrics.js';
import { MemoryRoomStore } from './rooms.js';
import { randomId } from './session.js';
import { hubSharedPort, sharedPortTurnUrl, type SinglePortOptions } from './shared-port/listen.js';
import type { SharedPort } from './shared-port/shared-port.js';

export function resolveOptions(options: HubOptions = {}): ResolvedHubOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as HubOptions;
  return {
    secret: undefined,
    devServiceKey: undefined,
    apiKeys: [],
    allowedOrigins: [],
    trustProxy: false,
    graceMs: d.DEFAULT_GRACE_MS,
    heartbeatMs: d.DEFAULT_HEARTBEAT_MS,
    pollHoldMs: d.DEFAULT_POLL_HOLD_MS,
    maxFrameBytes: d.DEFAULT_MAX_FRAME_BYTES,
    maxReplayFrames: d.DEFAULT_MAX_REPLAY_FRAMES,
    maxReplayBytes: d.DEFAULT_MAX_REPLAY_BYTES,
    // Follows the replay bound it is measured against (see WRITE_BUFFER_PER_REPLAY_BYTE).
    maxWriteBufferBytes: d.WRITE_BUFFER_PER_REPLAY_BYTE * (defined.maxReplayBytes ?? d.DEFAULT_MAX_REPLAY_BYTES),
    ratePerSecond: d.DEFAULT_RATE_PER_SECOND,
    rateBurst: d.DEFAULT_RATE_BURST,
    maxConnectionsPerIp: d.DEFAULT_MAX_CONNECTIONS_PER_IP,
    maxRoomsPerSession: d.DEFAULT_MAX_ROOMS_PER_SESSION,
    maxPeersPerRoom: d.DEFAULT_MAX_PEERS_PER_ROOM,
    maxMetaBytes: d.DEFAULT_MAX_META_BYTES,
    stunUrls: [],
    turn: undefined,
    logger: pino({ level: 'info' }),
    redis: undefined,
    redisPrefix: d.DEFAULT_REDIS_PREFIX,
    nodeId: `${hostname()}-${randomBytes(4).toString('hex')}`,
    nodeTimeoutMs: d.DEFAULT_NODE_TIMEOUT_MS,
    // Made by the memory core's assembly only (createHubServer): the Redis core has no use for them.
    bus: undefined,
    rooms: undefined,
    now: Date.now,
    refuseWebSocket: false,
    ...defined,
  };
}

/** Splits the merged options into the parts the hub's pieces get (see `HubParts`). */
export function splitOptions(o: ResolvedHubOptions): HubParts {
  return {
    limits: {
      graceMs: o.graceMs,
      heartbeatMs: o.heartbeatMs,
      pollHoldMs: o.pollHoldMs,
      maxFrameBytes: o.maxFrameBytes,
      maxReplayFrames: o.maxReplayFrames,
      maxReplayBytes: o.maxReplayBytes,
      maxWriteBufferBytes: o.maxWriteBufferBytes,
      ratePerSecond: o.ratePerSecond,
      rateBurst: o.rateBurst,
      maxConnectionsPerIp: o.maxConnectionsPerIp,
      maxRoomsPerSession: o.maxRoomsPerSession,
      maxPeersPerRoom: o.maxPeersPerRoom,
      maxMetaBytes: o.maxMetaBytes,
    },
    access: {
      secret: o.secret,
      apiKeys: o.apiKeys,
      allowedOrigins: o.allowedOrigins,
      trustProxy: o.trustProxy,
      stunUrls: o.stunUrls,
      turn: o.turn,
      devServiceKey: o.devServiceKey,
    },
    deployment: { redis: o.redis, redisPrefix: o.redisPrefix, nodeId: o.nodeId, nodeTimeoutMs: o.nodeTimeoutMs },
    deps: { logger: o.logger, now: o.now, bus: o.bus, rooms: o.rooms },
    switches: { refuseWebSocket: o.refuseWebSocket },
  };
}

/** The hub without a listening socket: mount `request` / `upgrade` on any HTTP(S) server. */
export interface HubServer {
  readonly hub: HubCore;
  readonly options: ResolvedHubOptions;
  /** Its /metrics registry and counters (e.g. to register more metrics on the same endpoint). */
  readonly metrics: HubMetrics;
  /** Handles hub paths; false for others (serve them yourself, or 404). */
  request(req: IncomingMessage, res: ServerResponse): boolean;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /**
   * What an HTTP request's `Authorization: Bearer …` (undefined: none) may do in `room`: a
   * token's grant, the secret's or an API key's (everything), or the dev grant without a
   * secret. For servers on the hub's port (the WHIP/WHEP gateway). Throws ProtocolError
   * `unauthorized` / `token-expired` (401), `forbidden` (403: room or permission not covered).
   */
  authorizeBearer(authorization: string | undefined, room: string, permission: Permission): Promise<Grant>;
  /**
   * A token for a service member (`svc` claim, identity = `service`), signed with the secret,
   * or in dev mode with the hub's own random key: how an embedded service (the SFU of
   * `pinhole serve`) joins this hub. Valid for `ttlSeconds` (default one hour).
   */
  serviceToken(service: string, ttlSeconds?: number): Promise<string>;
  /** The ICE servers (TURN credentials minted for `identity`) a session of that identity gets in `welcome`. */
  iceServers(identity: string): IceServer[];
  /** Resolves once the hub can serve (with `redis`: connected to it). Rejects if it cannot. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function createHubServer(options: HubOptions = {}): HubServer {
  const resolved = resolveOptions(options);
  const { limits, access: given, deployment, deps, switches } = splitOptions(resolved);
  const access = given.secret === undefined && given.devServiceKey === undefined ? { ...given, devServiceKey: randomId(24) } : given;
  const connections = new ConnectionTracker(limits.maxConnectionsPerIp);
  const redis = deployment.redis;
  const metrics = createMetrics(() => ({ connections: () => ({ ...connections.byTransport }), stats: () => hub.stats() }), redis !== undefined ? deployment.nodeId : undefined);
  const config: CoreConfig = { limits, access };
  const coreDeps: CoreDeps = { logger: deps.logger, now: deps.now, metrics };
  const context: RouterContext = { limits, access, switches, logger: deps.logger, now: deps.now, metrics, connections };
  const { hub, router } =
    redis !== undefined
      ? route(new ClusterHub(config, { ...deployment, redis }, coreDeps), context)
      : route(new Hub(config, { ...coreDeps, bus: deps.bus ?? new MemoryBus(), rooms: deps.rooms ?? new MemoryRoomStore() }), context);
  const heartbeat = setInterval(() => router.heartbeat(), limits.heartbeatMs);
  const sweep = setInterval(() => hub.sweep(), Math.min(1000, Math.max(50, limits.graceMs / 4)));
  heartbeat.unref();
  sweep.unref();
  if (access.secret === undefined) {
    deps.logger.warn('DEV MODE: no secret set, anyone may join any room. Set --secret / PINHOLE_SECRET in production.');
  }
  return {
    hub,
    options: resolved,
    metrics,
    request: (req, res) => router.request(req, res),
    upgrade: (req, socket, head) => router.upgrade(req, socket, head),
    async authorizeBearer(authorization, room, permission) {
      const grant = await bearerGrant(access, authorization, deps.now());
      if (!roomAllowed(grant, room)) throw new ProtocolError('forbidden', `this credential does not cover room ${room}`);
      if (!grant.perms.has(permission)) throw new ProtocolError('forbidden', `this credential lacks the ${permission} permission`);
      return grant;
    },
    iceServers: (identity) => iceServersFor(access, identity, deps.now()),
    serviceToken: (service, ttlSeconds = 3600) =>
      mintToken(access.secret ?? access.devServiceKey!, { identity: service, service, perms: ['join', 'data'] }, ttlSeconds, deps.now()),
    ready: () => hub.ready(),
    async close() {
      clearInterval(heartbeat);
      clearInterval(sweep);
      router.close();
      await hub.close();
    },
  };
}

/** A core and its router, typed by the core's own session type (so neither casts a handle). */
function route<S extends SessionHandle>(hub: HubCore<S>, context: RouterContext): { hub: HubCore<S>; router: HubRouter<S> } {
  return { hub, router: new HubRouter(hub, context) };
}

export interface ListenOptions {
  /** Default 0.0.0.0. */
  host?: string;
  /** Default 8443; 0 picks a free port. */
  port?: number;
  /** PEM certificate and key: HTTPS. Absent: plain HTTP (behind a TLS proxy, or tests). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * Answers the requests the hub does not route (paths outside `/v1/`, `/healthz` and
   * `/metrics`), e.g. a static web app. Absent: they get the hub's JSON 404. Unknown paths
   * under `/v1/` stay the hub's (its 404), and WebSocket upgrades are never passed on.
   */
  fallback?: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * More routes on the hub's port, asked before the hub (e.g. the WHIP/WHEP gateway, which
   * needs the hub to check credentials): made once the hub exists, before it listens; the
   * handler returns false for paths that are not its own.
   */
  routes?: (hub: HubServer) => (req: IncomingMessage, res: ServerResponse) => boolean;
  /**
   * One port for everything (see shared-port/): HTTP(S)/WSS and, with `stun`, STUN/TURN
   * over TCP and TLS on `port`, told apart per connection. Absent: an HTTP(S) server only.
   */
  singlePort?: SinglePortOptions;
}

export interface RunningHub extends HubServer {
  /** Base URL, e.g. `https://127.0.0.1:8443`. */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
}

/** Starts a hub on its own HTTP(S) server; other paths go to `fallback`, or answer 404. */
export async function startHub(options: HubOptions & ListenOptions = {}): Promise<RunningHub> {
  const { host = '0.0.0.0', port = 8443, tls, fallback, routes, singlePort, ...hubOptions } = options;
  // The shared port's TURN URL names the bound port (port 0 picks one), known only after
  // listening: the hub gets its own copy of the URL list, completed before it serves anyone.
  const turnUrls = hubOptions.turn ? [...hubOptions.turn.urls] : [];
  const hubServer = createHubServer(hubOptions.turn ? { ...hubOptions, turn: { ...hubOptions.turn, urls: turnUrls } } : hubOptions);
  try {
    await hubServer.ready();
  } catch (err) {
    await hubServer.close();
    throw err;
  }
  const extra = routes?.(hubServer);
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (extra?.(req, res)) return;
    if (hubServer.request(req, res)) return;
    if (!fallback) return sendProtocolError(res, new ProtocolError('not-found', `no route ${req.method} ${req.url}`));
    try {
      fallback(req, res);
    } catch (err) {
      // A throwing fallback must not take the hub's process down with it.
      hubServer.options.logger.error({ err, path: req.url }, 'fallback request handler threw');
      sendProtocolError(res, new ProtocolError('internal', 'request handler failed'));
    }
  };
  // On a shared port the port does TLS itself and hands this server decrypted sockets.
  const server: Server = tls && !singlePort ? createHttpsServer({ cert: tls.cert, key: tls.key }, onRequest) : createHttpServer(onRequest);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!hubServer.upgrade(req, socket, head)) socket.destroy();
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  const shared: SharedPort | undefined = singlePort && hubSharedPort(singlePort, server, tls, hubServer.metrics.registry);
  const listener: NetServer = shared?.server ?? server;
  try {
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(port, host, () => {
        listener.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await hubServer.close();
    throw err;
  }
  // An http.Server starts tracking its connections on 'listening' (closeAllConnections, and
  // the headersTimeout/requestTimeout checks that end slow requests). Behind a shared port
  // it never listens itself, so it is told when the port does.
  if (shared) server.emit('listening');
  const bound = (listener.address() as AddressInfo).port;
  if (singlePort?.stun && singlePort.turnHost !== undefined && hubOptions.turn) turnUrls.push(sharedPortTurnUrl(singlePort.turnHost, bound, tls !== undefined));
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    ...hubServer,
    server,
    port: bound,
    url: `${tls ? 'https' : 'http'}://${shownHost}:${bound}`,
    async close() {
      await hubServer.close();
      shared?.destroyAll();
      server.closeAllConnections();
      // Behind a shared port this only stops the HTTP server's timers (it has no socket of its own).
      if (shared) server.close(() => undefined);
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}
