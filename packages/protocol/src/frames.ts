/**
 * Pinhole signaling frames. Every frame is a JSON object with a `type`.
 * docs/protocol/hub.md is the normative description; this file is its typed mirror.
 */

/** Protocol version announced in `welcome`. */
export const PROTOCOL_VERSION = 1;

/**
 * Client frame ids: integers 1, 2, 3, … per session (the hub then reports `lastId` so a
 * client knows what to resend after a drop), or strings (≤ 64 chars) deduplicated over a
 * bounded window. A frame whose id was already applied is ignored. The id of a `hello`
 * is only echoed as `welcome.ref`: numbering starts with the first frame after welcome.
 */
export type FrameId = string | number;

/** Arbitrary JSON payload carried opaquely by the hub (SDPs, candidates, app data). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Peer metadata given at join (display name, …). A JSON object, bounded in size. */
export type PeerMeta = { [key: string]: Json };

export interface PeerInfo {
  peer: string;
  meta: PeerMeta;
  /**
   * Set by the hub, never by the member: the kind of service this member is (`"sfu"`), from a
   * token's `svc` claim. SDKs open no peer connection to a service member.
   */
  service?: string;
}

export interface ResumeRequest {
  session: string;
  key: string;
  /** Highest `seq` the client has received (0 when none). */
  lastSeq: number;
}

// ---------------------------------------------------------------- client → hub

interface ClientBase {
  /** Idempotency key: a frame whose id was already applied is not applied again. */
  id?: FrameId;
  /** Piggy-backed cumulative ack: same meaning as an `ack` frame. */
  ack?: number;
}

export interface HelloFrame extends ClientBase {
  type: 'hello';
  /** JWT (HS256) minted with the hub's secret; required unless the hub runs in dev mode. */
  token?: string;
  resume?: ResumeRequest;
  /**
   * WebSocket only: the client also accepts a JSON array of frames in one message. The hub
   * then sends the frames it writes to this session in one tick as one message.
   */
  batch?: boolean;
}

export interface JoinFrame extends ClientBase {
  type: 'join';
  room: string;
  meta?: PeerMeta;
}

export interface LeaveFrame extends ClientBase {
  type: 'leave';
  room: string;
}

export interface SignalFrame extends ClientBase {
  type: 'signal';
  to: string;
  /** Optional: the shared room to attribute the signal to. */
  room?: string;
  data: Json;
}

export interface BroadcastFrame extends ClientBase {
  type: 'broadcast';
  room: string;
  data: Json;
}

export interface AckFrame extends ClientBase {
  type: 'ack';
  seq: number;
}

export interface PingFrame extends ClientBase {
  type: 'ping';
}

/**
 * Service sessions only (a token with `svc`): asks to be told which rooms have members. The
 * hub answers `watching` with the rooms open now, then sends `room-opened` / `room-closed`.
 */
export interface WatchRoomsFrame extends ClientBase {
  type: 'watch-rooms';
}

/** Ends the session now: its rooms are left (reason `leave`) without waiting for the grace period. */
export interface ByeFrame extends ClientBase {
  type: 'bye';
}

export type ClientFrame =
  | HelloFrame
  | JoinFrame
  | LeaveFrame
  | SignalFrame
  | BroadcastFrame
  | AckFrame
  | PingFrame
  | WatchRoomsFrame
  | ByeFrame;

export type ClientFrameType = ClientFrame['type'];

// ---------------------------------------------------------------- hub → client

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface WelcomeFrame {
  type: 'welcome';
  protocol: number;
  session: string;
  /** Secret needed to resume this session; never shared with other peers. */
  key: string;
  peer: string;
  /** Identity from the token (or `anonymous` in dev mode). */
  identity: string;
  resumed: boolean;
  /** Highest seq the hub has sent so far on this session (0 on a fresh session). */
  seq: number;
  /**
   * Milliseconds between the hub's liveness probes (WebSocket ping, SSE comment line).
   * A client that sees nothing for about twice this long should reconnect and resume.
   */
  heartbeat: number;
  /** Milliseconds a detached session is kept for resume. */
  grace: number;
  iceServers: IceServer[];
  limits: WelcomeLimits;
  /** Rooms this session is in (non-empty after a resume). */
  rooms: string[];
  /**
   * Highest integer client frame id n such that every id 1..n has been applied.
   * A resuming client drops its retained frames with id ≤ lastId and resends the rest.
   */
  lastId: number;
  ref?: FrameId;
}

export interface WelcomeLimits {
  maxFrameBytes: number;
  /** Deepest nesting of objects and arrays in a client frame, the frame being level 1 (`MAX_FRAME_DEPTH`). */
  maxFrameDepth: number;
  maxRoomsPerSession: number;
  maxPeersPerRoom: number;
  /** 0 = no rate limit. */
  ratePerSecond: number;
  rateBurst: number;
  maxMetaBytes: number;
  /** How long the hub holds a long-poll request before answering `[]`. */
  pollHoldMs: number;
  /** Bytes one connection may hold that its client has not read; past it the session ends with `overflow`. */
  maxWriteBufferBytes: number;
}

interface Sequenced {
  /** Per-session sequence number, +1 for each frame after `welcome`. */
  seq: number;
}

export interface JoinedFrame extends Sequenced {
  type: 'joined';
  room: string;
  peer: string;
  /** Peers already present (excluding the joiner). */
  peers: PeerInfo[];
  ref?: FrameId;
}

export interface LeftFrame extends Sequenced {
  type: 'left';
  room: string;
  ref?: FrameId;
}

export interface PeerJoinedFrame extends Sequenced {
  type: 'peer-joined';
  room: string;
  peer: string;
  meta: PeerMeta;
  /** The member is a service (see PeerInfo.service). */
  service?: string;
}

/** Answers `watch-rooms`: the rooms that have at least one member other than services, now. */
export interface WatchingFrame extends Sequenced {
  type: 'watching';
  rooms: string[];
  ref?: FrameId;
}

/** To a watching service: `room` got its first member other than services. */
export interface RoomOpenedFrame extends Sequenced {
  type: 'room-opened';
  room: string;
}

/** To a watching service: `room` lost its last member other than services. */
export interface RoomClosedFrame extends Sequenced {
  type: 'room-closed';
  room: string;
}

export type PeerLeftReason = 'leave' | 'timeout' | 'closed';

export interface PeerLeftFrame extends Sequenced {
  type: 'peer-left';
  room: string;
  peer: string;
  reason: PeerLeftReason;
}

export interface SignalDelivery extends Sequenced {
  type: 'signal';
  from: string;
  room?: string;
  data: Json;
}

export interface BroadcastDelivery extends Sequenced {
  type: 'broadcast';
  from: string;
  room: string;
  data: Json;
}

export interface ErrorFrame {
  type: 'error';
  /**
   * Present when the error is part of the session's numbered stream. Absent on errors
   * before `welcome`, on the error written just before the hub closes a connection, and
   * on HTTP error bodies.
   */
  seq?: number;
  code: ErrorCode;
  message: string;
  /** The `id` of the client frame that caused it, when it had one. */
  ref?: FrameId;
  /** The `type` of the client frame that caused it, when known. */
  frame?: string;
}

/** Not sequenced: a liveness answer is worthless on replay. */
export interface PongFrame {
  type: 'pong';
  ref?: FrameId;
  /** Hub's clock, ms since epoch. */
  time: number;
  /** Same as `welcome.lastId`: lets a client trim the frames it retains for resending. */
  lastId: number;
}

export type SequencedFrame =
  | JoinedFrame
  | LeftFrame
  | PeerJoinedFrame
  | PeerLeftFrame
  | SignalDelivery
  | BroadcastDelivery
  | WatchingFrame
  | RoomOpenedFrame
  | RoomClosedFrame
  | (ErrorFrame & Sequenced);

export type ServerFrame = WelcomeFrame | SequencedFrame | ErrorFrame | PongFrame;

// ---------------------------------------------------------------- errors

/** Every error code the hub sends. docs/protocol/hub.md §8 lists them with their meaning. */
export const ERROR_CODES = [
  'bad-json',
  'bad-frame',
  'unknown-type',
  'too-large',
  'rate-limited',
  'hello-required',
  'already-welcomed',
  'unauthorized',
  'token-expired',
  'forbidden',
  'origin-not-allowed',
  'session-unknown',
  'not-in-room',
  'unknown-peer',
  'room-full',
  'too-many-rooms',
  'too-many-connections',
  'replaced',
  'overflow',
  'not-found',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
