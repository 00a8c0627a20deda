/**
 * The hub's protocol core when several nodes share a Redis: no session state lives in a
 * node. Each client frame becomes one atomic call of the cluster script (dedupe, acks,
 * rate limit, rooms, relay), so any request of a session may land on any node and a
 * node may die without losing anything but its open connections, which clients resume
 * elsewhere. Frames of one session from one node go over one Redis connection in
 * arrival order, so they are applied in that order.
 */
import { Counter, Gauge } from 'prom-client';
import {
  ProtocolError,
  type ClientFrame,
  type ErrorCode,
  type FrameId,
  type HelloFrame,
  type Json,
  type PeerInfo,
  type WelcomeFrame,
} from '@pinhole/protocol';
import { roomAllowed, type Grant, type Permission } from '../auth.js';
import type { CoreConfig, CoreDeps, CoreHealth, CoreStats, HubCore, Inbound, SessionHandle } from '../core.js';
import { DEFAULT_REST_ID_TTL_SECONDS, type ClusterDeployment } from '../defaults.js';
import { randomId } from '../session.js';
import { checkResume, checkSessionRequest, helloGrant, newSessionGrant, welcomeFrame } from '../session-rules.js';
import { OVERFLOW_MESSAGE, type Downstream } from '../transports/transport.js';
import { Delivery } from './delivery.js';
import { ClusterStore, type ScriptArg } from './store.js';

/** A grant as stored in Redis. */
interface StoredGrant {
  identity: string;
  room: string | null;
  perms: Permission[];
  expiresAt: number | null;
  service?: string;
}

const storeGrant = (g: Grant): string =>
  JSON.stringify({
    identity: g.identity,
    room: g.room?.source ?? null,
    perms: [...g.perms],
    expiresAt: g.expiresAt ?? null,
    ...(g.service === undefined ? {} : { service: g.service }),
  } satisfies StoredGrant);

function loadGrant(text: string): Grant {
  const g = JSON.parse(text) as StoredGrant;
  return {
    identity: g.identity,
    room: g.room === null ? undefined : new RegExp(g.room),
    perms: new Set(g.perms),
    expiresAt: g.expiresAt ?? undefined,
    service: g.service,
  };
}

/** A session as this node last saw it. Any node may hold one for the same session. */
export class ClusterSession implements SessionHandle {
  /** The last frame call sent for this session from this handle; POST replies wait for it. */
  last: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly hub: ClusterHub,
    readonly id: string,
    readonly key: string,
    readonly peer: string,
    public grant: Grant,
    public seq: number,
    public lastId: number,
    readonly rooms: string[],
  ) {}

  attach(downstream: Downstream, lastSeq: number): void {
    this.hub.attach(this, downstream, lastSeq);
  }

  detach(downstream: Downstream, now: number): void {
    this.hub.detach(this, downstream, now);
  }
}

/**
 * What the script returns for a client frame: lastId, seq, flags (b: bye, o: a session
 * overflowed, g: gone), and the code of the error frame it answered with ('' none).
 */
type FrameResult = [number, number, string, string];

export class ClusterHub implements HubCore<ClusterSession> {
  readonly store: ClusterStore;
  readonly delivery: Delivery;
  readonly #node: string;
  #cluster = { sessions: 0, detached: 0, nodes: 0 };
  #closing = false;
  /** A sweep has registered this node in Redis once. */
  #swept = false;
  readonly #storeErrors: Counter;

  constructor(
    private readonly config: CoreConfig,
    private readonly deployment: ClusterDeployment,
    private readonly deps: CoreDeps,
  ) {
    const o = config.limits;
    const { logger, metrics } = deps;
    this.#node = deployment.nodeId;
    this.delivery = new Delivery((session, after) => this.#fetch(session, after), logger, {
      written: (n) => metrics.framesOut.inc(n),
      overflowed: () => metrics.error('overflow'),
    });
    this.store = new ClusterStore(
      deployment.redis,
      {
        prefix: deployment.redisPrefix,
        maxReplayFrames: o.maxReplayFrames,
        maxReplayBytes: o.maxReplayBytes,
        ratePerSecond: o.ratePerSecond,
        rateBurst: o.rateBurst,
        maxRoomsPerSession: o.maxRoomsPerSession,
        maxPeersPerRoom: o.maxPeersPerRoom,
        restIdTtlSeconds: DEFAULT_REST_ID_TTL_SECONDS,
        tombstoneMs: o.graceMs,
      },
      deployment.nodeId,
      logger,
      { message: (text) => this.delivery.message(text), resubscribed: () => this.delivery.resyncAll() },
    );
    const registry = metrics.registry;
    const cluster = this.#cluster;
    const gauge = (name: string, help: string, value: () => number): void => {
      new Gauge({ name, help, registers: [registry], collect() { this.set(value()); } });
    };
    gauge('pinhole_cluster_sessions', 'Sessions in the whole cluster (as of the last sweep)', () => cluster.sessions);
    gauge('pinhole_cluster_sessions_detached', 'Sessions of the cluster without a connection, in their grace period', () => cluster.detached);
    gauge('pinhole_cluster_nodes', 'Hub nodes with a fresh heartbeat in Redis', () => cluster.nodes);
    gauge('pinhole_redis_up', '1 while both Redis connections of this node are ready', () => (this.store.up ? 1 : 0));
    this.#storeErrors = new Counter({ name: 'pinhole_redis_errors_total', help: 'Redis calls that failed', registers: [registry] });
  }

  async ready(): Promise<void> {
    await this.store.connect();
    this.deps.logger.info({ node: this.#node, prefix: this.deployment.redisPrefix }, 'cluster node joined (Redis connected)');
    this.sweep();
  }

  // ------------------------------------------------------------ hello / resume

  async hello(frame: HelloFrame): Promise<{ session: ClusterSession; resumed: boolean }> {
    const now = this.deps.now();
    const grant = await helloGrant(this.config.access, frame, now);
    if (frame.resume) {
      const { session, grant: current } = checkResume(frame, (await this.#load(frame.resume.session)).session, grant, now);
      if (current !== session.grant) {
        session.grant = current;
        await this.#call('grant', session.id, storeGrant(current));
      }
      this.deps.metrics.resumes.inc();
      return { session, resumed: true };
    }
    const session = new ClusterSession(this, randomId(12), randomId(18), randomId(8), newSessionGrant(this.config.access, frame, grant), 0, 0, []);
    await this.#call('create', session.id, session.key, session.peer, storeGrant(session.grant), now);
    return { session, resumed: false };
  }

  welcome(session: ClusterSession, resumed: boolean, ref?: FrameId): WelcomeFrame {
    return welcomeFrame(this.config, this.deps.now(), session, resumed, ref);
  }

  async authenticate(sessionId: string | null, key: string | null): Promise<ClusterSession> {
    const { session, overflowedKey } = sessionId ? await this.#load(sessionId) : {};
    return checkSessionRequest(session, key, this.deps.now(), overflowedKey);
  }

  /** A live session, or (ended by overflow a short while ago) the key it had. */
  async #load(id: string): Promise<{ session?: ClusterSession; overflowedKey?: string }> {
    const info = (await this.#call('info', id)) as string[];
    if (info.length <= 1) return { overflowedKey: info[0] };
    const [key, peer, grant, seq, lastId, ...rooms] = info as [string, string, string, string, string, ...string[]];
    return { session: new ClusterSession(this, id, key, peer, loadGrant(grant), Number(seq), Number(lastId), rooms) };
  }

  // ------------------------------------------------------------ connections

  attach(session: ClusterSession, downstream: Downstream, lastSeq: number): void {
    const conn = randomId(9);
    this.delivery.begin(session.id, downstream, conn);
    this.#call('attach', session.id, this.#node, conn, lastSeq).then(
      (result) => {
        const [seq, ...frames] = result as [number, ...string[]];
        if (seq < 0) return this.delivery.close(session.id, conn); // ended meanwhile
        this.delivery.replay(session.id, conn, seq, frames);
      },
      () => this.delivery.close(session.id, conn),
    );
  }

  detach(session: ClusterSession, downstream: Downstream, now: number): void {
    const conn = this.delivery.end(session.id, downstream);
    if (conn === undefined || this.#closing) return;
    // Failure is harmless: the node's heartbeat lapses or the next attach takes over.
    this.#call('detach', session.id, conn, now).catch(() => undefined);
  }

  async #fetch(session: string, after: number): Promise<{ seq: number; frames: string[] } | undefined> {
    const [seq, ...frames] = (await this.#call('fetch', session, after)) as [number, ...string[]];
    return seq < 0 ? undefined : { seq, frames };
  }

  // ------------------------------------------------------------ client frames

  receive(session: ClusterSession, frame: Inbound): void {
    if (frame instanceof ProtocolError) {
      const [kind, id] = idArgs(frame.ref);
      this.#frameCall(session, 'reject', [session.id, kind, id, frame.code, frame.message, frame.frame ?? '']);
      return;
    }
    this.deps.metrics.frameIn(frame.type);
    const [kind, id] = idArgs(frame.id);
    if (frame.type === 'hello') {
      this.#frameCall(session, 'reject', [session.id, kind, id, 'already-welcomed', 'this connection already has a session', 'hello']);
      return;
    }
    let typeArgs: ScriptArg[];
    try {
      typeArgs = this.#typeArgs(session, frame);
    } catch (err) {
      // Encoding failed (validation bounds the nesting, so not from the wire): answer as the
      // memory core does, consuming the id, rather than throw into a socket handler.
      this.deps.logger.error({ err, session: session.id, frame: frame.type }, 'frame handler failed');
      this.#frameCall(session, 'reject', [session.id, kind, id, 'internal', 'internal error', frame.type]);
      return;
    }
    this.#frameCall(session, 'frame', [session.id, this.deps.now(), frame.ack ?? '', kind, id, frame.type, ...typeArgs]);
  }

  reject(session: ClusterSession, err: ProtocolError): void {
    this.receive(session, err);
  }

  /** Drops the connection here at once, then ends the session in Redis (room-mates get `peer-left`). */
  overflow(session: ClusterSession): void {
    this.deps.logger.warn({ session: session.id }, 'write buffer overflow (the client is not reading): ending session');
    this.delivery.close(session.id, undefined, 'overflow', OVERFLOW_MESSAGE);
    this.#call('overflow', session.id).catch(() => undefined); // counted and logged by #call; the grace period ends it otherwise
  }

  settled(session: ClusterSession): Promise<void> {
    return session.last.then(() => undefined);
  }

  /** The checks that depend only on the frame and the grant happen here; the rest in Redis. */
  #typeArgs(session: ClusterSession, frame: ClientFrame): ScriptArg[] {
    switch (frame.type) {
      case 'signal':
        return [frame.to, frame.room ?? '', JSON.stringify(frame.data)];
      case 'broadcast':
        return [frame.room, JSON.stringify(frame.data), session.grant.perms.has('data') ? '1' : '0'];
      case 'join': {
        const o = this.config.limits;
        const meta = JSON.stringify(frame.meta ?? {});
        const metaBytes = Buffer.byteLength(meta);
        let refusal: [string, string] = ['', ''];
        if (!session.grant.perms.has('join')) refusal = ['forbidden', 'your token does not allow joining rooms'];
        else if (!roomAllowed(session.grant, frame.room)) refusal = ['forbidden', `your token does not allow room "${frame.room}"`];
        else if (metaBytes > o.maxMetaBytes) refusal = ['too-large', `join: "meta" is ${metaBytes} bytes, over the limit of ${o.maxMetaBytes}`];
        return [frame.room, meta, ...refusal, session.grant.service ?? ''];
      }
      case 'leave':
        return [frame.room];
      case 'ack':
        return [frame.seq];
      case 'watch-rooms':
        return [session.grant.service === undefined ? '0' : '1'];
      default:
        return [];
    }
  }

  #frameCall(session: ClusterSession, op: 'frame' | 'reject', args: ScriptArg[]): void {
    const call = this.#call(op, ...args).then((result) => {
      const [lastId, seq, flags, error] = result as FrameResult;
      if (flags.includes('g')) return;
      // Counted by the node that took the frame, as the memory core counts in Hub.sendError.
      if (error !== '') this.deps.metrics.error(error as ErrorCode);
      session.lastId = lastId;
      session.seq = seq;
      if (flags.includes('o')) this.sweep(); // end the overflowed session now
    });
    call.catch((err: unknown) => {
      // The frame may not have been applied: drop the connection so the client resumes
      // and resends what the hub has not confirmed (ids make the resend safe).
      this.deps.logger.warn({ err: (err as Error).message, session: session.id }, 'applying a frame failed; closing the connection');
      this.delivery.close(session.id, undefined);
    });
    session.last = session.last.then(() => call);
    session.last.catch(() => undefined); // WebSocket handles are never awaited
  }

  // ------------------------------------------------------------ REST

  async roomPeers(room: string): Promise<PeerInfo[]> {
    return JSON.parse((await this.#call('peers', room)) as string) as PeerInfo[];
  }

  async relay(room: string, to: string | undefined, data: Json, id: string | undefined): Promise<{ delivered: number; duplicate?: true }> {
    const n = (await this.#call('rest', room, to ?? '', JSON.stringify(data), id ?? '')) as number;
    if (n === -1) throw new ProtocolError('unknown-peer', `peer "${to}" is not in room "${room}"`);
    if (n === -2) return { delivered: 0, duplicate: true };
    return { delivered: n };
  }

  // ------------------------------------------------------------ lifetime, metrics, health

  stats(): CoreStats {
    return { sessions: this.delivery.size, detached: undefined, unacked: undefined, maxUnacked: undefined, rooms: undefined, memberships: undefined };
  }

  health(): CoreHealth {
    const health: CoreHealth = { ok: this.store.up, node: this.#node, redis: this.store.status, sessions: this.delivery.size, cluster: { ...this.#cluster } };
    if (!health.ok) health.error = this.store.lastError ?? 'Redis connection lost; reconnecting';
    return health;
  }

  /** Heartbeat of this node, detaching dead nodes' sessions, ending expired ones: one call. */
  sweep(): void {
    if (this.#closing || !this.store.up) return;
    const { logger, now } = this.deps;
    this.#call('sweep', this.#node, now(), this.config.limits.graceMs, this.deployment.nodeTimeoutMs).then(
      (result) => {
        const [sessions, detached, nodes, ended, dead, fresh] = result as number[];
        Object.assign(this.#cluster, { sessions, detached, nodes });
        if (fresh === 1 && this.#swept) {
          // Declared dead by another node (a long stall), or Redis lost everything: Redis
          // no longer routes frames here, so the connections here would starve. Their
          // clients resume (elsewhere or here) and get everything from the replay buffers.
          logger.warn({ connections: this.delivery.size }, 'this node was not registered in Redis (heartbeat lapsed, or Redis restarted empty): closing its connections');
          this.delivery.closeAll();
        }
        this.#swept = true;
        if (dead! > 0) logger.warn({ nodes: dead }, 'detached the sessions of nodes whose heartbeat lapsed');
        if (ended! > 0) logger.debug({ ended }, 'sessions ended after their grace period');
      },
      () => undefined, // counted and logged by #call
    );
  }

  /** Shutting one node down detaches its sessions: their clients resume on other nodes. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.delivery.closeAll();
    if (this.store.up) await this.#call('leave-node', this.#node, this.deps.now()).catch(() => undefined);
    await this.store.close();
  }

  async #call(op: string, ...args: ScriptArg[]): Promise<unknown> {
    try {
      return await this.store.run(op, ...args);
    } catch (err) {
      this.#storeErrors.inc();
      if (err instanceof ProtocolError) throw err;
      throw new ProtocolError('internal', `shared store unavailable: ${(err as Error).message}`, undefined, undefined, { cause: err });
    }
  }
}

/** A client frame id as two script arguments: kind ('' none, 'i' integer, 's' string) and value. */
function idArgs(id: FrameId | undefined): [string, string] {
  if (id === undefined) return ['', ''];
  return typeof id === 'number' ? ['i', String(id)] : ['s', id];
}
