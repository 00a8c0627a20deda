/**
 * The agent: a Node peer that only dials out. It connects to the hub (through HTTPS_PROXY
 * when set; the SDK's ladder ws → sse → poll), joins one room, and serves every member
 * that connects: `echo`, `files` (a shared directory) and `forward` (exposed TCP ports).
 * Peer connections use the hub's ICE servers, so TURN carries what a firewall blocks.
 *
 * The first connection is retried forever with backoff; after that the SDK's session
 * resumes (or re-opens and re-joins) by itself. What it logs says which rung it is on:
 * the signaling transport (and proxy), and per peer the selected candidate pair.
 */
import { hostname } from 'node:os';
import { connect, proxyFor, Emitter, type NodeConnectOptions, type NamedChannel, type RemotePeer, type Room, type Session } from '@pinhole/node';
import { AGENT_PROTOCOL_VERSION, DEFAULT_RECONNECT, FORWARD_LABEL_PREFIX, SERVICE_CHANNELS } from './defaults.js';
import { AgentError } from './errors.js';
import { silentLogger, type AgentLogger } from './logger.js';
import { refuseChannel, serveRequests, type Request } from './rpc.js';
import { serveEcho } from './services/echo.js';
import { FilesService } from './services/files.js';
import { ForwardService, type ExposedTarget } from './services/forward.js';
import { resolveStreamOptions, type StreamOptions } from './stream.js';

export interface AgentOptions {
  /** Hub URL, e.g. https://hub.example:8443. */
  hub: string;
  room: string;
  /** A JWT, or a function returning a fresh one at every hello. */
  token?: NodeConnectOptions['token'];
  /** Shown to peers in the room meta; default: the host name. */
  name?: string;
  /** TCP ports to expose to the `forward` service. */
  expose?: readonly ExposedTarget[];
  /** Directory the `files` service shares (read-only); none: `files` answers `not-shared`. */
  share?: string;
  logger?: AgentLogger;
  /** Anything else for the SDK: ca, insecure, proxy, transports, iceServers, iceTransportPolicy… */
  connect?: Omit<NodeConnectOptions, 'token'>;
  stream?: StreamOptions;
  /** Backoff of the first connection to the hub (DEFAULT_RECONNECT). */
  retry?: { initialDelayMs?: number; maxDelayMs?: number; factor?: number; jitter?: number };
}

/** What an agent announces in its room meta (`meta.agent`). */
export interface AgentAnnouncement {
  version: number;
  name: string;
  services: string[];
  targets: string[];
}

export type AgentEvents = {
  /** A member's peer connection is up; `report` says how (candidate types, protocol, relay). */
  'peer-connected': { peer: RemotePeer; report: Awaited<ReturnType<RemotePeer['report']>> };
  /** The hub refused us for good (bad token, replaced): the agent stopped. */
  fatal: AgentError;
};

export class Agent extends Emitter<AgentEvents> {
  readonly options: AgentOptions;
  readonly logger: AgentLogger;
  readonly #files: FilesService;
  readonly #forward: ForwardService;
  #session: Session | undefined;
  #room: Room | undefined;
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(options: AgentOptions) {
    super();
    this.options = options;
    this.logger = options.logger ?? silentLogger;
    this.#files = new FilesService(options.share);
    this.#forward = new ForwardService(options.expose ?? [], resolveStreamOptions(options.stream), this.logger);
  }

  get session(): Session | undefined {
    return this.#session;
  }

  get room(): Room | undefined {
    return this.#room;
  }

  get announcement(): AgentAnnouncement {
    return {
      version: AGENT_PROTOCOL_VERSION,
      name: this.options.name ?? hostname(),
      services: ['echo', ...(this.options.share === undefined ? [] : ['files']), ...(this.#forward.targets.length ? ['forward'] : [])],
      targets: this.#forward.targets,
    };
  }

  /** Connects (retrying until it works or `close()`), joins the room, and serves. */
  async start(): Promise<void> {
    const session = await this.#connect();
    this.#session = session;
    this.#watch(session);
    let room: Room;
    try {
      room = await session.join(this.options.room, { name: this.announcement.name, agent: { ...this.announcement } });
    } catch (err) {
      await session.close();
      throw new AgentError('hub', `cannot join room '${this.options.room}': ${(err as Error).message}`, { cause: err });
    }
    this.#room = room;
    this.logger.info({ room: room.name, peer: session.peerId, services: this.announcement.services, targets: this.announcement.targets }, 'joined; serving');
    room.on('peer-joined', (peer) => this.#serve(peer));
    for (const peer of room.peers.values()) this.#serve(peer);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    this.#forward.close();
    await this.#session?.close();
  }

  async #connect(): Promise<Session> {
    const { initialDelayMs, maxDelayMs, factor, jitter } = { ...DEFAULT_RECONNECT, ...this.options.retry };
    const proxy = proxyFor(this.options.hub, this.options.connect?.proxy);
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw new AgentError('closed', 'agent closed before it connected');
      try {
        const session = await connect(this.options.hub, { ...this.options.connect, ...(this.options.token === undefined ? {} : { token: this.options.token }) });
        this.logger.info({ hub: this.options.hub, transport: session.transport, proxy: redact(proxy), identity: session.identity }, 'signaling connected');
        return session;
      } catch (err) {
        const delayMs = Math.round(Math.min(maxDelayMs, initialDelayMs * factor ** (attempt - 1)) * (1 - jitter * Math.random()));
        this.logger.warn({ hub: this.options.hub, proxy: redact(proxy), attempt, delayMs, err: (err as Error).message }, 'hub unreachable; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          this.#wake = () => (clearTimeout(timer), resolve());
        });
      }
    }
  }

  #watch(session: Session): void {
    session.on('transport-changed', ({ from, to }) => this.logger.info({ from, to }, 'signaling transport changed'));
    session.on('reconnecting', ({ attempt, delayMs, error }) => this.logger.warn({ attempt, delayMs, err: error?.message }, 'signaling lost; reconnecting'));
    session.on('reconnected', ({ transport, resumed }) => this.logger.info({ transport, resumed }, 'signaling reconnected'));
    session.on('expired', () => this.logger.warn({}, 'hub session expired; joining again with a new peer id'));
    session.on('disconnected', ({ error }) => {
      if (this.#closed) return;
      const fatal = new AgentError('hub', `the hub ended the session: ${error?.message ?? 'closed'}`, { cause: error });
      this.logger.error({ err: fatal.message }, 'stopped');
      this.#forward.close();
      this.emit('fatal', fatal);
    });
  }

  /** Attaches the services to one member. */
  #serve(peer: RemotePeer): void {
    const context = { peer: peer.id, name: typeof peer.meta.name === 'string' ? peer.meta.name : undefined };
    this.logger.info(context, 'peer joined');
    peer.on('channel', (channel) => this.#onChannel(channel, peer, context));
    peer.on('file', (transfer) => transfer.reject('this agent does not accept files'));
    peer.connection?.on('datachannel', (dc) => {
      if (dc.label.startsWith(FORWARD_LABEL_PREFIX)) {
        if (this.#forward.targets.length === 0) dc.close();
        else this.#forward.accept(dc, context);
      } else if (!dc.label.startsWith('pinhole-')) {
        dc.close(); // the SDK's own channels are pinhole-*; anything else has no taker here
      }
    });
    peer.on('state', (state) => {
      if (state === 'connected') void this.#reportRung(peer, context);
      else if (state === 'failed' || state === 'disconnected') this.logger.warn({ ...context, state }, 'peer connection down; the SDK repairs it');
    });
    peer.once('closed', () => this.logger.info(context, 'peer left'));
  }

  async #reportRung(peer: RemotePeer, context: object): Promise<void> {
    try {
      // The selected pair may lag the state change by a moment in libdatachannel.
      let report = await peer.report();
      for (let i = 0; i < 10 && !report.candidateType.local; i++) {
        await new Promise((r) => setTimeout(r, 100));
        report = await peer.report();
      }
      const { candidateType, protocol, relayProtocol, rttMs, transport } = report;
      this.logger.info({ ...context, local: candidateType.local, remote: candidateType.remote, protocol, relayProtocol, rttMs, signaling: transport }, 'peer connected');
      this.emit('peer-connected', { peer, report });
    } catch (err) {
      this.logger.debug({ ...context, err: (err as Error).message }, 'no connectivity report');
    }
  }

  #onChannel(channel: NamedChannel, peer: RemotePeer, context: object): void {
    const ctx = { ...context, service: channel.name };
    switch (channel.name) {
      case SERVICE_CHANNELS.echo:
        return serveEcho(channel, this.logger, ctx);
      case SERVICE_CHANNELS.files:
        return serveRequests(channel, (req) => this.#files.handle(req, peer), this.logger, ctx);
      case SERVICE_CHANNELS.agent:
        return serveRequests(channel, (req) => this.#info(req), this.logger, ctx);
      default:
        this.logger.warn(ctx, 'unknown service refused');
        return refuseChannel(channel, new AgentError('unknown-service', `no service ${JSON.stringify(channel.name)} (services: ${this.announcement.services.join(', ')})`));
    }
  }

  async #info(req: Request): Promise<object> {
    if (req.op !== 'info') throw new AgentError('unknown-op', `the agent service has no op ${JSON.stringify(req.op)} (info)`);
    return { ...this.announcement };
  }
}

/** A proxy URL without its credentials, for logs. */
function redact(proxy: string): string | undefined {
  if (!proxy) return undefined;
  try {
    const u = new URL(proxy);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return 'set';
  }
}
