/**
 * The seam between the hub's HTTP/WebSocket layer and its protocol core. Two cores
 * implement it: `Hub` (one process, state in memory, synchronous hand-over) and
 * `ClusterHub` (state in Redis, shared by every node). Transports and the router only
 * see these two interfaces, so a request of a session may land on any node.
 */
import type { Logger } from 'pino';
import type { ClientFrame, FrameId, HelloFrame, Json, PeerInfo, ProtocolError, WelcomeFrame } from '@pinhole/protocol';
import type { HubAccess, HubLimits } from './defaults.js';
import type { HubMetrics } from './metrics.js';
import type { Downstream } from './transports/transport.js';

/** A client frame to apply, or one that failed decoding and gets its error in turn. */
export type Inbound = ClientFrame | ProtocolError;

/** What a transport holds of a session: where to attach, and the figures POST replies carry. */
export interface SessionHandle {
  readonly id: string;
  /** Highest seq assigned (as last seen by this node). */
  readonly seq: number;
  /** Highest n such that client frames 1..n have all been applied (as last seen by this node). */
  readonly lastId: number;
  /**
   * Makes `downstream` the session's connection (closing the one it replaces, on any
   * node), acknowledges up to `lastSeq` and replays what follows.
   */
  attach(downstream: Downstream, lastSeq: number): void;
  /** Detaches `downstream` if it is still the current one; the grace period starts. */
  detach(downstream: Downstream, now: number): void;
}

/** What a core is configured with: the limits it enforces and the access rules of `hello`. */
export interface CoreConfig {
  readonly limits: HubLimits;
  readonly access: HubAccess;
}

/** What a core uses and does not own (each core adds its own: the memory core a bus and a room store). */
export interface CoreDeps {
  readonly logger: Logger;
  readonly now: () => number;
  readonly metrics: HubMetrics;
}

/** Session figures for /metrics and /healthz. */
export interface CoreStats {
  /** Sessions this node knows: all of them in memory mode, attached here in cluster mode. */
  sessions: number;
  /** Undefined when this node cannot count them cheaply (cluster mode: see the pinhole_cluster_* gauges). */
  detached: number | undefined;
  unacked: number | undefined;
  maxUnacked: number | undefined;
  rooms: number | undefined;
  memberships: number | undefined;
}

/** `{status}` for /healthz: `ok`, or `degraded` (then 503) with the reason. */
export interface CoreHealth {
  ok: boolean;
  [field: string]: Json | undefined;
}

/**
 * `S` is the core's own session type: what `hello` and `authenticate` hand out is what
 * the other methods get back, so a core never casts a handle to its session.
 */
export interface HubCore<S extends SessionHandle = SessionHandle> {
  /** Resolves once the core can serve (cluster: Redis connected, scripts loaded). */
  ready(): Promise<void>;
  /** Authenticates a hello; returns a new or resumed session. Throws ProtocolError. */
  hello(frame: HelloFrame): Promise<{ session: S; resumed: boolean }>;
  welcome(session: S, resumed: boolean, ref?: FrameId): WelcomeFrame;
  /** Looks up a session for an HTTP request carrying `session` and `key`. Throws ProtocolError. */
  authenticate(sessionId: string | null, key: string | null): S | Promise<S>;
  /** Applies a client frame; frames of a session are applied in arrival order. */
  receive(session: S, frame: Inbound): void;
  /** Answers a frame that failed decoding or validation (its id is consumed). */
  reject(session: S, err: ProtocolError): void;
  /** Resolves once every frame received so far for `session` has been applied. */
  settled(session: S): Promise<void>;
  /**
   * Ends a session whose connection holds more than `maxWriteBufferBytes` unsent (its
   * client stopped reading): `overflow`, as for a full replay buffer.
   */
  overflow(session: S): void;
  /** REST: the members of a room. */
  roomPeers(room: string): Promise<PeerInfo[]>;
  /**
   * REST: relays `data` as a signal to `to` (or a broadcast to the room) from `@server`.
   * A message `id` already relayed to this room is not relayed again.
   */
  relay(room: string, to: string | undefined, data: Json, id: string | undefined): Promise<{ delivered: number; duplicate?: true }>;
  stats(): CoreStats;
  health(): CoreHealth;
  /** Ends sessions detached for longer than the grace period. Called periodically. */
  sweep(): void;
  close(): Promise<void>;
}
