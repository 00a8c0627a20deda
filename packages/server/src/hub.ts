import {
  ProtocolError,
  type BroadcastFrame,
  type ClientFrame,
  type ErrorCode,
  type FrameId,
  type HelloFrame,
  type JoinFrame,
  type Json,
  type LeaveFrame,
  type PeerInfo,
  type PeerLeftReason,
  type SignalFrame,
  type WatchRoomsFrame,
  type WelcomeFrame,
} from '@pinhole/protocol';
import { roomAllowed } from './auth.js';
import type { Bus, OutboundFrame } from './bus/bus.js';
import { BoundedSet } from './bounded-set.js';
import type { CoreConfig, CoreDeps, CoreHealth, CoreStats, HubCore, Inbound } from './core.js';
import type { HubLimits } from './defaults.js';
import type { RoomStore } from './rooms.js';
import { SERVER_PEER } from './rest.js';
import { Session } from './session.js';
import { checkResume, checkSessionRequest, helloGrant, newSessionGrant, welcomeFrame } from './session-rules.js';
import { Tombstones } from './tombstones.js';
import { OVERFLOW_MESSAGE } from './transports/transport.js';

/** Why a session ended; becomes the `peer-left` reason its room-mates see. */
type EndReason = PeerLeftReason | 'overflow';

/** REST message ids remembered, so a retried POST is not delivered twice. */
const MAX_REST_IDS = 4096;
/** Sessions ended by overflow remembered (for `graceMs`), so their clients hear why. */
const MAX_TOMBSTONES = 4096;

/** The one-process core's dependencies: delivery to a peer id and room membership, in this process. */
export interface MemoryCoreDeps extends CoreDeps {
  readonly bus: Bus;
  readonly rooms: RoomStore;
}

interface Queued {
  backlog: Inbound[];
  idle: (() => void)[];
}

/**
 * The hub's protocol core, free of sockets: sessions, rooms, relay. Transports feed it
 * decoded client frames and attach themselves to sessions; deliveries between sessions
 * go through the bus, never by direct reference, so a target may live on another node.
 */
export class Hub implements HubCore<Session> {
  readonly sessions = new Map<string, Session>();
  readonly #restIds = new BoundedSet<string>(MAX_REST_IDS);
  readonly #tombstones = new Tombstones(MAX_TOMBSTONES);
  readonly #unsubscribe = new Map<Session, () => void>();
  /** Sessions waiting on an async step (join/leave); later frames queue behind it. */
  readonly #blocked = new Map<Session, Queued>();
  /** Service sessions that sent `watch-rooms`. */
  readonly #watchers = new Set<Session>();
  /** Rooms with at least one member that is not a service (what watchers are told of). */
  readonly #open = new Set<string>();

  readonly #limits: HubLimits;

  constructor(
    private readonly config: CoreConfig,
    private readonly deps: MemoryCoreDeps,
  ) {
    this.#limits = config.limits;
  }

  async ready(): Promise<void> {}

  // ------------------------------------------------------------ hello / resume

  /** Authenticates a hello and returns a new or resumed session. Throws ProtocolError. */
  async hello(frame: HelloFrame): Promise<{ session: Session; resumed: boolean }> {
    const now = this.deps.now();
    const grant = await helloGrant(this.config.access, frame, now);
    if (frame.resume) {
      const found = this.sessions.get(frame.resume.session);
      const { session, grant: current } = checkResume(frame, found && !found.ended ? found : undefined, grant, now);
      session.grant = current;
      this.deps.metrics.resumes.inc();
      return { session, resumed: true };
    }
    const session = new Session(newSessionGrant(this.config.access, frame, grant), this.#limits, now);
    this.sessions.set(session.id, session);
    this.#unsubscribe.set(session, this.deps.bus.subscribe(session.peer, (f) => this.deliver(session, f)));
    return { session, resumed: false };
  }

  welcome(session: Session, resumed: boolean, ref?: FrameId): WelcomeFrame {
    return welcomeFrame(this.config, this.deps.now(), session, resumed, ref);
  }

  /** Looks up a session for an HTTP request carrying `session` and `key`. */
  // Twin: cluster/lua/ops.lua op 'info'.
  authenticate(sessionId: string | null, key: string | null): Session {
    const found = sessionId ? this.sessions.get(sessionId) : undefined;
    const session = found && !found.ended ? found : undefined;
    const now = this.deps.now();
    // The tombstones are looked at only for a session not found (not on the hot path).
    return checkSessionRequest(session, key, now, session || !sessionId ? undefined : this.#tombstones.key(sessionId, now));
  }

  // ------------------------------------------------------------ client frames

  /**
   * Applies one client frame. Frames of a session are applied in arrival order: while
   * an async step (join, leave) runs, later frames wait behind it.
   */
  receive(session: Session, frame: Inbound): void {
    const queued = this.#blocked.get(session);
    if (queued) {
      queued.backlog.push(frame);
      return;
    }
    this.#run(session, frame);
  }

  /** Resolves once every frame received so far for `session` has been applied. */
  settled(session: Session): Promise<void> {
    const queued = this.#blocked.get(session);
    if (!queued) return Promise.resolve();
    return new Promise((resolve) => queued.idle.push(resolve));
  }

  #run(session: Session, frame: Inbound): void {
    const pending = this.#apply(session, frame);
    if (!pending) return;
    const queued: Queued = { backlog: [], idle: [] };
    this.#blocked.set(session, queued);
    const resume = (): void => {
      while (queued.backlog.length > 0) {
        const next = this.#apply(session, queued.backlog.shift()!);
        if (next) {
          void next.then(resume);
          return;
        }
      }
      this.#blocked.delete(session);
      for (const idle of queued.idle) idle();
    };
    void pending.then(resume);
  }

  /** Returns a promise only when the frame needs an async step. Never throws. */
  // Twin: cluster/lua/apply.lua apply, ops.lua ops 'frame' and 'reject'.
  #apply(session: Session, frame: Inbound): Promise<void> | undefined {
    if (session.ended) return undefined;
    if (frame instanceof ProtocolError) {
      if (frame.ref === undefined || session.firstSight(frame.ref)) this.sendError(session, frame.code, frame.message, frame.ref, frame.frame);
      return undefined;
    }
    this.deps.metrics.frameIn(frame.type);
    if (frame.ack !== undefined) session.ack(frame.ack);
    if (frame.type === 'ack') session.ack(frame.seq);
    if (frame.id !== undefined && !session.firstSight(frame.id)) return undefined;
    if (frame.type === 'ack') return undefined;
    try {
      if (!session.bucket.take(this.deps.now())) {
        throw new ProtocolError('rate-limited', `more than ${this.#limits.ratePerSecond} frames/s; slow down and resend under a new id`);
      }
      switch (frame.type) {
        case 'signal':
          this.#signal(session, frame);
          return undefined;
        case 'broadcast':
          this.#broadcast(session, frame);
          return undefined;
        case 'join':
          return this.#join(session, frame).catch((err: unknown) => this.#fail(session, frame, err));
        case 'leave':
          return this.#leave(session, frame).catch((err: unknown) => this.#fail(session, frame, err));
        case 'watch-rooms':
          this.#watch(session, frame);
          return undefined;
        case 'ping':
          session.downstream?.writeLoose(JSON.stringify({ type: 'pong', ref: frame.id, time: this.deps.now(), lastId: session.lastId }));
          return undefined;
        case 'bye':
          return this.end(session, 'leave');
        case 'hello':
          throw new ProtocolError('already-welcomed', 'this connection already has a session');
      }
    } catch (err) {
      this.#fail(session, frame, err);
    }
    return undefined;
  }

  #fail(session: Session, frame: ClientFrame, err: unknown): void {
    if (err instanceof ProtocolError) {
      this.sendError(session, err.code, err.message, frame.id, frame.type);
      return;
    }
    this.deps.logger.error({ err, session: session.id, frame: frame.type }, 'frame handler failed');
    this.sendError(session, 'internal', 'internal error', frame.id, frame.type);
  }

  /**
   * Answers a client frame that could not be decoded or validated. Its id, when it had
   * one, is consumed like any answered frame, so `lastId` keeps moving; a retry of it
   * is ignored.
   */
  reject(session: Session, err: ProtocolError): void {
    this.receive(session, err);
  }

  // Twin: cluster/lua/ops.lua op 'overflow'.
  overflow(session: Session): void {
    if (session.ended) return;
    this.deps.logger.warn({ session: session.id }, 'write buffer overflow (the client is not reading): ending session');
    void this.end(session, 'overflow');
  }

  /** Sends a sequenced error frame to a session. */
  // Twin: cluster/lua/lib.lua pushError.
  sendError(session: Session, code: ErrorCode, message: string, ref?: FrameId, frameType?: string): void {
    this.deps.metrics.error(code);
    const error: OutboundFrame = { type: 'error', code, message };
    if (ref !== undefined) error.ref = ref;
    if (frameType !== undefined) error.frame = frameType;
    this.deliver(session, error);
  }

  // Twin (with #broadcast, #join, #leave; same error texts): cluster/lua/apply.lua apply.
  #signal(session: Session, frame: SignalFrame): void {
    const { to, room } = frame;
    const rooms = this.deps.rooms;
    if (room !== undefined) {
      if (!session.rooms.has(room)) throw new ProtocolError('not-in-room', `you are not in room "${room}"`, frame.id, 'signal');
      if (!rooms.has(room, to)) throw new ProtocolError('unknown-peer', `peer "${to}" is not in room "${room}"`, frame.id, 'signal');
      this.deps.bus.publish(to, { type: 'signal', from: session.peer, room, data: frame.data });
      return;
    }
    for (const r of session.rooms) {
      if (rooms.has(r, to)) {
        this.deps.bus.publish(to, { type: 'signal', from: session.peer, data: frame.data });
        return;
      }
    }
    throw new ProtocolError('unknown-peer', `peer "${to}" shares no room with you`, frame.id, 'signal');
  }

  #broadcast(session: Session, frame: BroadcastFrame): void {
    const { room } = frame;
    if (!session.rooms.has(room)) throw new ProtocolError('not-in-room', `you are not in room "${room}"`, frame.id, 'broadcast');
    if (!session.grant.perms.has('data')) throw new ProtocolError('forbidden', 'your token does not allow sending data', frame.id, 'broadcast');
    const out: OutboundFrame = { type: 'broadcast', from: session.peer, room, data: frame.data };
    for (const member of this.deps.rooms.members(room)) {
      if (member.peer !== session.peer) this.deps.bus.publish(member.peer, out);
    }
  }

  async #join(session: Session, frame: JoinFrame): Promise<void> {
    const { room, id } = frame;
    const o = this.#limits;
    const { rooms, bus } = this.deps;
    if (!session.grant.perms.has('join')) throw new ProtocolError('forbidden', 'your token does not allow joining rooms', id, 'join');
    if (!roomAllowed(session.grant, room)) throw new ProtocolError('forbidden', `your token does not allow room "${room}"`, id, 'join');
    const meta = frame.meta ?? {};
    const metaBytes = Buffer.byteLength(JSON.stringify(meta));
    if (metaBytes > o.maxMetaBytes) throw new ProtocolError('too-large', `join: "meta" is ${metaBytes} bytes, over the limit of ${o.maxMetaBytes}`, id, 'join');
    if (session.rooms.has(room)) {
      // Already in: answer again (a retry after a lost reply), leaving presence as it is.
      const peers = rooms.members(room).filter((p) => p.peer !== session.peer);
      this.deliver(session, id === undefined ? { type: 'joined', room, peer: session.peer, peers } : { type: 'joined', room, peer: session.peer, peers, ref: id });
      return;
    }
    if (session.rooms.size >= o.maxRoomsPerSession) {
      throw new ProtocolError('too-many-rooms', `a session may be in at most ${o.maxRoomsPerSession} rooms`, id, 'join');
    }
    const service = session.grant.service;
    const member: PeerInfo = service === undefined ? { peer: session.peer, meta } : { peer: session.peer, meta, service };
    const result = await rooms.join(room, member, o.maxPeersPerRoom);
    if (result === 'full') throw new ProtocolError('room-full', `room "${room}" already has ${o.maxPeersPerRoom} peers`, id, 'join');
    if (session.ended) {
      await rooms.leave(room, session.peer);
      return;
    }
    session.rooms.add(room);
    const joined: OutboundFrame = { type: 'joined', room, peer: session.peer, peers: result };
    if (id !== undefined) joined.ref = id;
    this.deliver(session, joined);
    const announce: OutboundFrame = service === undefined ? { type: 'peer-joined', room, peer: session.peer, meta } : { type: 'peer-joined', room, peer: session.peer, meta, service };
    for (const other of result) bus.publish(other.peer, announce);
    if (service === undefined && !result.some((p) => p.service === undefined)) this.#roomEvent('room-opened', room);
  }

  // Twin: cluster/lua/apply.lua apply ('watch-rooms').
  #watch(session: Session, frame: WatchRoomsFrame): void {
    if (session.grant.service === undefined) throw new ProtocolError('forbidden', 'only a service may watch rooms', frame.id, 'watch-rooms');
    this.#watchers.add(session);
    const watching: OutboundFrame = { type: 'watching', rooms: [...this.#open] };
    if (frame.id !== undefined) watching.ref = frame.id;
    this.deliver(session, watching);
  }

  /** A room got its first member other than services, or lost its last: watchers are told. */
  // Twin: cluster/lua/lib.lua roomEvent.
  #roomEvent(type: 'room-opened' | 'room-closed', room: string): void {
    if (type === 'room-opened') this.#open.add(room);
    else this.#open.delete(room);
    for (const watcher of this.#watchers) this.deps.bus.publish(watcher.peer, { type, room });
  }

  async #leave(session: Session, frame: LeaveFrame): Promise<void> {
    const { room, id } = frame;
    if (!session.rooms.has(room)) throw new ProtocolError('not-in-room', `you are not in room "${room}"`, id, 'leave');
    session.rooms.delete(room);
    await this.#leaveRoom(session, room, 'leave');
    const left: OutboundFrame = { type: 'left', room };
    if (id !== undefined) left.ref = id;
    this.deliver(session, left);
  }

  // Twin: cluster/lua/lib.lua leaveRoom.
  async #leaveRoom(session: Session, room: string, reason: PeerLeftReason): Promise<void> {
    const { rooms, bus } = this.deps;
    if (!(await rooms.leave(room, session.peer))) return;
    const members = rooms.members(room);
    for (const member of members) bus.publish(member.peer, { type: 'peer-left', room, peer: session.peer, reason });
    if (session.grant.service === undefined && !members.some((m) => m.service === undefined)) this.#roomEvent('room-closed', room);
  }

  // ------------------------------------------------------------ delivery and lifetime

  /** Hands a frame to a session hosted here (called by the bus). */
  // Twin (with Session.push): cluster/lua/lib.lua push.
  deliver(session: Session, frame: OutboundFrame): void {
    if (session.ended) return;
    if (session.push(frame)) {
      this.deps.metrics.framesOut.inc();
      return;
    }
    this.deps.logger.warn({ session: session.id, unacked: session.unacked }, 'replay buffer overflow: ending session');
    void this.end(session, 'overflow');
  }

  /** Ends a session: it leaves its rooms (room-mates get `peer-left`) and cannot be resumed. */
  // Twin: cluster/lua/lib.lua endSession.
  async end(session: Session, reason: EndReason): Promise<void> {
    if (session.ended) return;
    session.ended = true;
    this.sessions.delete(session.id);
    this.#unsubscribe.get(session)?.();
    this.#unsubscribe.delete(session);
    this.#watchers.delete(session);
    const downstream = session.downstream;
    session.downstream = undefined;
    if (reason === 'overflow') {
      const now = this.deps.now();
      this.#tombstones.add(session.id, session.key, now + this.#limits.graceMs, now);
      if (downstream) {
        this.deps.metrics.error('overflow');
        downstream.close('overflow', OVERFLOW_MESSAGE);
      }
    } else {
      downstream?.close();
    }
    const peerReason: PeerLeftReason = reason === 'overflow' ? 'closed' : reason;
    await Promise.all([...session.rooms].map((room) => this.#leaveRoom(session, room, peerReason)));
    session.rooms.clear();
  }

  /** Ends sessions detached for longer than the grace period. Called periodically. */
  // Twin: cluster/lua/ops.lua op 'sweep'.
  sweep(): void {
    const deadline = this.deps.now() - this.#limits.graceMs;
    for (const session of this.sessions.values()) {
      if (session.detachedAt !== undefined && session.detachedAt <= deadline) void this.end(session, 'timeout');
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.end(s, 'closed')));
  }

  // ------------------------------------------------------------ REST, metrics, health

  async roomPeers(room: string): Promise<PeerInfo[]> {
    return this.deps.rooms.members(room);
  }

  // Twin: cluster/lua/ops.lua op 'rest'.
  async relay(room: string, to: string | undefined, data: Json, id: string | undefined): Promise<{ delivered: number; duplicate?: true }> {
    const { rooms, bus } = this.deps;
    if (to !== undefined && !rooms.has(room, to)) throw new ProtocolError('unknown-peer', `peer "${to}" is not in room "${room}"`);
    // Only a delivered message consumes its id: a retry after an error is tried again.
    if (id !== undefined && !this.#restIds.add(`${room}\n${id}`)) return { delivered: 0, duplicate: true };
    if (to !== undefined) {
      bus.publish(to, { type: 'signal', from: SERVER_PEER, room, data });
      return { delivered: 1 };
    }
    const members = rooms.members(room);
    for (const member of members) bus.publish(member.peer, { type: 'broadcast', from: SERVER_PEER, room, data });
    return { delivered: members.length };
  }

  stats(): CoreStats {
    // A long-poll session is detached for a moment between two polls: count only
    // sessions gone for over a second, the ones really waiting for a resume.
    const gone = this.deps.now() - 1000;
    let detached = 0;
    let unacked = 0;
    let maxUnacked = 0;
    let memberships = 0;
    for (const s of this.sessions.values()) {
      if (s.detachedAt !== undefined && s.detachedAt <= gone) detached++;
      unacked += s.unacked;
      maxUnacked = Math.max(maxUnacked, s.unacked);
      memberships += s.rooms.size;
    }
    return { sessions: this.sessions.size, detached, unacked, maxUnacked, rooms: this.deps.rooms.roomCount(), memberships };
  }

  health(): CoreHealth {
    return { ok: true, sessions: this.sessions.size };
  }
}
