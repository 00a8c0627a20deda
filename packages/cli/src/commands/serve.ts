/**
 * `pinhole serve`: the hub on one HTTP(S) port, with zero configuration by default
 * (self-signed TLS on 0.0.0.0:8443, dev mode), stopped gracefully by SIGINT/SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { HubOptions, ListenOptions, RunningHub } from '@pinhole/server';
import type { SfuService } from '@pinhole/sfu';
import { publicHost, servedUrls, type ServedUrls } from '../addresses.js';
import { resolveOptions, type Resolved } from '../config.js';
import { CliError, runtimeError, usageError } from '../errors.js';
import type { CommandHelp } from '../help.js';
import { renderCommandHelp } from '../help.js';
import type { CliIO } from '../io.js';
import { createLogger } from '../logger.js';
import { SINGLE_PORT, serveOptions, staticUsersOf, type ServeValues, type TurnValues } from '../options.js';
import { loadOrCreateSelfSigned, loadTlsFiles, type TlsMaterial } from '../tls.js';
import { EMBEDDED_TURN_UNAVAILABLE, startEmbeddedTurn, type EmbeddedTurn, type EmbeddedTurnOptions } from '../turn.js';
import { embeddedGateway } from '../gateway.js';
import { embeddedSfu, sfuOptionsOf } from '../sfu.js';
import { webAppHandler } from '../web.js';
import { renderBanner } from './serve-banner.js';

export const serveHelp: CommandHelp = {
  name: 'serve',
  summary: 'run the signaling hub (HTTPS with a self-signed certificate unless told otherwise)',
  usage: 'pinhole serve [options]',
  description: [
    'TLS: a self-signed certificate is generated once into <data-dir>/cert.pem and key.pem and',
    'reused; or give --tls-cert/--tls-key; or --no-tls behind a TLS-terminating proxy.',
    'Without --secret the hub runs in dev mode: anyone may join any room.',
    'One port: --port 443 (or --single-port) also serves TURN over TLS and STUN/TURN over TCP on it.',
    'The media server (SFU) runs embedded: it joins rooms as a service member; --no-sfu turns it off.',
  ].join('\n'),
  table: serveOptions,
};

/** The TURN settings `serve` and `turn` share (same keys in both option tables). */
type TurnServerValues = Pick<
  TurnValues,
  | 'turnUsers'
  | 'turnAllowPeers'
  | 'turnExternalIp'
  | 'turnRelayMinPort'
  | 'turnRelayMaxPort'
  | 'turnMaxAllocations'
  | 'turnMaxAllocationsPerUser'
  | 'turnBandwidth'
  | 'turnMaxConnections'
  | 'turnMaxConnectionsPerSource'
  | 'turnConnectionTimeout'
>;

/** Maps the shared TURN options to `startEmbeddedTurn` options; unset ones keep the TURN server's defaults. */
export function turnServerOptions(values: TurnServerValues): Partial<EmbeddedTurnOptions> {
  if (values.turnRelayMaxPort < values.turnRelayMinPort || values.turnRelayMinPort < 1) {
    throw usageError(`--turn-relay-min-port ${values.turnRelayMinPort} / --turn-relay-max-port ${values.turnRelayMaxPort}: not a port range`);
  }
  const o: Partial<EmbeddedTurnOptions> = { minPort: values.turnRelayMinPort, maxPort: values.turnRelayMaxPort };
  if (values.turnAllowPeers.length > 0) o.allowPeers = values.turnAllowPeers;
  if (values.turnUsers.length > 0) o.staticUsers = staticUsersOf(values.turnUsers);
  if (values.turnExternalIp !== undefined) o.externalIp = values.turnExternalIp;
  if (values.turnMaxAllocations !== undefined) o.maxAllocations = values.turnMaxAllocations;
  if (values.turnMaxAllocationsPerUser !== undefined) o.maxAllocationsPerUser = values.turnMaxAllocationsPerUser;
  if (values.turnBandwidth !== undefined) o.bandwidthBytesPerSecond = values.turnBandwidth;
  if (values.turnMaxConnections !== undefined) o.maxStreamConnections = values.turnMaxConnections;
  if (values.turnMaxConnectionsPerSource !== undefined) o.maxStreamConnectionsPerSource = values.turnMaxConnectionsPerSource;
  if (values.turnConnectionTimeout !== undefined) o.streamIdleTimeoutMs = values.turnConnectionTimeout;
  return o;
}

/** What `startHub` takes: the hub's options plus where to listen. */
export type StartHubOptions = HubOptions & ListenOptions;

export interface RunningServe {
  /** The hub's own URL as `startHub` reported it. */
  url: string;
  port: number;
  urls: ServedUrls;
  /** undefined with --no-tls. */
  tls: TlsMaterial | undefined;
  devMode: boolean;
  turn: EmbeddedTurn | undefined;
  /** The embedded SFU's service member, once it is in the hub (undefined with --no-sfu, or if it failed). */
  sfu: Promise<SfuService | undefined>;
  close(): Promise<void>;
}

/** How TURN is provided to clients, decided from the options before anything starts. */
export type TurnPlan =
  | { kind: 'none' }
  | { kind: 'external'; urls: string[]; secret: string | undefined }
  | { kind: 'embedded'; port: number; secret: string; externalUrls: string[]; generatedSecret: boolean };

/**
 * External TURN URLs (`--turn-url`) replace the embedded server unless `--turn-port` was
 * set explicitly, so a coturn on the same machine does not collide with port 3478.
 */
export function planTurn(values: ServeValues, sources: Resolved<typeof serveOptions>['sources']): TurnPlan {
  const turnSecret = values.turnSecret ?? values.secret;
  if (values.turnUrls.length > 0 && turnSecret === undefined) {
    throw usageError('--turn-url needs --turn-secret (or --secret) to mint TURN REST API credentials');
  }
  const embedded = values.turnPort > 0 && (values.turnUrls.length === 0 || sources.turnPort !== 'default');
  if (embedded) {
    // Dev mode still gets working TURN: a per-process secret the hub and the TURN server share.
    const secret = turnSecret ?? randomBytes(24).toString('base64url');
    return { kind: 'embedded', port: values.turnPort, secret, externalUrls: values.turnUrls, generatedSecret: turnSecret === undefined };
  }
  if (values.turnUrls.length > 0) return { kind: 'external', urls: values.turnUrls, secret: values.turnSecret };
  return { kind: 'none' };
}

/** Maps resolved options to `startHub` options; omits unset values so the hub's defaults apply. */
export function buildHubOptions(
  values: ServeValues,
  extra: { logger: Logger; tls: TlsMaterial | undefined; turn: { urls: string[]; secret?: string } | undefined; stunUrls: string[] },
): StartHubOptions {
  const options: StartHubOptions = {
    host: values.host,
    port: values.port,
    logger: extra.logger,
    trustProxy: values.trustProxy,
    apiKeys: values.apiKeys,
    allowedOrigins: values.origins,
  };
  if (extra.tls) options.tls = { cert: extra.tls.cert, key: extra.tls.key };
  if (values.secret !== undefined) options.secret = values.secret;
  if (values.grace !== undefined) options.graceMs = values.grace;
  if (values.heartbeat !== undefined) options.heartbeatMs = values.heartbeat;
  if (values.maxPeersPerRoom !== undefined) options.maxPeersPerRoom = values.maxPeersPerRoom;
  if (values.maxRoomsPerSession !== undefined) options.maxRoomsPerSession = values.maxRoomsPerSession;
  if (values.maxConnectionsPerIp !== undefined) options.maxConnectionsPerIp = values.maxConnectionsPerIp;
  if (values.rate !== undefined) {
    options.ratePerSecond = values.rate === 0 ? Infinity : values.rate;
    if (values.rate > 0) options.rateBurst = values.rateBurst ?? Math.max(1, Math.ceil(values.rate * 2));
  } else if (values.rateBurst !== undefined) {
    options.rateBurst = values.rateBurst;
  }
  if (values.maxWriteBuffer !== undefined) options.maxWriteBufferBytes = values.maxWriteBuffer;
  if (values.refuseWebsocket) options.refuseWebSocket = true;
  if (values.redis !== undefined) options.redis = values.redis;
  if (values.nodeId !== undefined) options.nodeId = values.nodeId;
  if (extra.stunUrls.length > 0) options.stunUrls = extra.stunUrls;
  if (extra.turn && extra.turn.urls.length > 0) {
    options.turn = { urls: extra.turn.urls, ...(extra.turn.secret !== undefined ? { secret: extra.turn.secret } : {}) };
  }
  return options;
}

/** Whether HTTP(S) and TURN share `--port` (`--single-port`, implied by `--port 443`). */
export function isSinglePort(values: Pick<ServeValues, 'singlePort' | 'port'>): boolean {
  return values.singlePort || values.port === SINGLE_PORT;
}

function checkCombinations(values: ServeValues, sources: Resolved<typeof serveOptions>['sources']): void {
  if (isSinglePort(values) && sources.turnTlsPort !== 'default' && values.turnTlsPort > 0) {
    throw usageError(`--turn-tls-port contradicts ${values.singlePort ? '--single-port' : `--port ${SINGLE_PORT}`}: TURN over TLS is on the shared port`);
  }
  if ((values.tlsCert === undefined) !== (values.tlsKey === undefined)) {
    throw usageError('--tls-cert and --tls-key go together');
  }
  if (values.noTls && values.tlsCert !== undefined) throw usageError('--no-tls contradicts --tls-cert/--tls-key');
}

/** Starts TURN (if planned) and the hub, prints the banner; the caller decides when to close. */
export async function startServe(resolved: Resolved<typeof serveOptions>, io: CliIO): Promise<RunningServe> {
  const { values } = resolved;
  checkCombinations(values, resolved.sources);
  const singlePort = isSinglePort(values);
  const plan = planTurn(values, resolved.sources);
  const tls = values.noTls
    ? undefined
    : values.tlsCert !== undefined && values.tlsKey !== undefined
      ? loadTlsFiles(values.tlsCert, values.tlsKey)
      : await loadOrCreateSelfSigned({ dataDir: values.dataDir });
  const logger = createLogger(values.logLevel, io.stdout === process.stdout ? undefined : io.stdout);
  const notes: string[] = [];

  let turn: EmbeddedTurn | undefined;
  const turnHost = values.turnExternalIp ?? publicHost(values.host);
  let hubTurn: { urls: string[]; secret?: string } | undefined;
  const stunUrls = [...values.stunUrls];
  if (plan.kind === 'embedded') {
    const start = io.startTurn ?? startEmbeddedTurn;
    try {
      // With a shared port, TURN over TLS is served there instead of on a port of its own.
      const turnTls = tls && values.turnTlsPort > 0 && !singlePort ? { tls: { cert: tls.cert, key: tls.key, port: values.turnTlsPort } } : {};
      turn = await start({
        host: values.host,
        port: plan.port,
        secret: plan.secret,
        realm: values.turnRealm,
        publicHost: turnHost,
        logger,
        ...turnServerOptions(values),
        ...turnTls,
      });
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw runtimeError(`embedded TURN failed to start on port ${plan.port}: ${(err as Error).message}`, err);
    }
    if (turn) {
      stunUrls.push(...turn.stunUrls);
      hubTurn = { urls: [...plan.externalUrls, ...turn.turnUrls], secret: plan.secret };
    } else {
      notes.push(`TURN: ${EMBEDDED_TURN_UNAVAILABLE} (port ${plan.port} is not listening)`);
      if (plan.externalUrls.length > 0) hubTurn = { urls: plan.externalUrls, secret: plan.secret };
    }
  } else if (plan.kind === 'external') {
    hubTurn = { urls: plan.urls, ...(plan.secret !== undefined ? { secret: plan.secret } : {}) };
  } else {
    notes.push('TURN: none (--turn-port 0, no --turn-url): peers behind strict NATs may not connect');
  }

  const sharedTurn = turn?.acceptConnection;
  const hubOptions = buildHubOptions(values, { logger, tls, turn: hubTurn, stunUrls });
  let hub: RunningHub;
  const media = embeddedSfu(logger, sfuOptionsOf(values));
  const gateway = embeddedGateway(logger, media);
  try {
    const { startHub, registerTurnMetrics } = await import('@pinhole/server');
    // The meeting web app (apps/web/dist) on every path the hub does not claim.
    // The shared port hands STUN/TURN connections to the embedded TURN server, and the
    // welcome names it as turns:host:port (turn: without TLS) once the port is bound.
    const single = singlePort ? { singlePort: sharedTurn && hubTurn ? { stun: sharedTurn, turnHost } : {} } : {};
    hub = await startHub({ ...hubOptions, ...single, fallback: webAppHandler(), routes: gateway.routes });
    // The embedded TURN server's counters on the hub's /metrics (pinhole_turn_*).
    if (turn?.stats) registerTurnMetrics(hub.metrics.registry, turn.stats);
  } catch (err) {
    gateway.close();
    await media.close();
    await turn?.close().catch(() => undefined);
    if (err instanceof CliError) throw err;
    throw runtimeError(`hub failed to start on ${values.host}:${values.port}: ${(err as Error).message}`, err);
  }

  // The hub itself logs the dev-mode warning; the banner repeats it for humans.
  const devMode = values.secret === undefined;
  const urls = servedUrls(values.host, hub.port, tls !== undefined);
  if (singlePort) {
    const turnToo = sharedTurn && hubTurn ? (tls ? ', TURN over TLS, STUN/TURN over TCP' : ', STUN/TURN over TCP') : '';
    notes.push(`One port: ${tls ? 'HTTPS/WSS' : 'HTTP/WS'}${turnToo} all on ${hub.port}`);
  }
  io.stderr.write(renderBanner({ urls, tls, devMode, turnUrls: hub.options.turn?.urls ?? [], notes, secretLength: values.secret?.length }));
  logger.info({ url: hub.url, port: hub.port, tls: tls?.origin ?? 'none', devMode, ...(values.redis !== undefined ? { node: hub.options.nodeId } : {}) }, 'hub listening');

  // Loaded and started when the first room opens: loading the SFU must not delay serve. Not on
  // a cluster (--redis): every node's SFU would join every room; run one `pinhole sfu` instead.
  if (!values.noSfu && values.redis !== undefined) logger.info('no embedded SFU with --redis: run `pinhole sfu --hub URL --secret S` once for the cluster');
  const embedSfu = !values.noSfu && values.redis === undefined;
  const sfu = embedSfu
    ? media.serveWhenNeeded(hub).then(
        (service) => {
          if (service) logger.info({ peer: service.peer }, 'embedded SFU joined the hub as a service member');
          return service;
        },
        (err: unknown) => {
          logger.error({ err }, 'the embedded SFU failed to start: rooms stay peer-to-peer');
          return undefined;
        },
      )
    : Promise.resolve(undefined);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      logger.info('shutting down');
      gateway.close();
      // The SFU says bye before the hub goes, so its rooms see it leave.
      const results = await Promise.allSettled([media.close().then(() => hub.close()), turn?.close()]);
      logger.info('stopped');
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw runtimeError(`shutdown failed: ${(failed.reason as Error)?.message ?? String(failed.reason)}`, failed.reason);
    })());
  return { url: hub.url, port: hub.port, urls, tls, devMode, turn, sfu, close };
}

/** `pinhole serve`: runs until SIGINT/SIGTERM (or `io.signal`), then closes gracefully. */
export async function serveCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const resolved = resolveOptions(serveOptions, argv, io.env, 'serve');
  if (resolved.help) {
    io.stdout.write(renderCommandHelp(serveHelp));
    return 0;
  }
  const server = await startServe(resolved, io);
  const stop = stopRequests(io);
  try {
    io.onServe?.(server);
    await stop.requested;
    io.stderr.write('pinhole: shutting down (again to force)\n');
    await server.close();
  } finally {
    stop.dispose();
  }
  return 0;
}

/**
 * Resolves `requested` on the first SIGINT/SIGTERM or abort of `io.signal`; a second signal
 * during shutdown exits at once (exit code 130, as after a default SIGINT).
 */
export function stopRequests(io: CliIO): { requested: Promise<void>; dispose(): void } {
  const signals: NodeJS.Signals[] = io.handleSignals === false ? [] : ['SIGINT', 'SIGTERM'];
  let stopping = false;
  let resolve!: () => void;
  const requested = new Promise<void>((r) => (resolve = r));
  const onStop = (): void => {
    if (stopping) {
      io.stderr.write('pinhole: forced exit\n');
      process.exit(130);
    }
    stopping = true;
    resolve();
  };
  const onAbort = (): void => {
    if (!stopping) onStop();
  };
  for (const s of signals) process.on(s, onStop);
  if (io.signal?.aborted) onAbort();
  else io.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    requested,
    dispose: () => {
      for (const s of signals) process.off(s, onStop);
      io.signal?.removeEventListener('abort', onAbort);
    },
  };
}
