/**
 * Every tunable of the hub, with its default, and the option types. Public `HubOptions`
 * is a partial of `ResolvedHubOptions`; `resolveOptions` merges once at start-up and
 * `splitOptions` separates limits, access, deployment and dependencies.
 */
import type { Logger } from 'pino';
import type { Bus } from './bus/bus.js';
import type { RoomStore } from './rooms.js';

/** How long a detached session is kept for resume, and stays present to others. */
export const DEFAULT_GRACE_MS = 30_000;
/** WebSocket ping / SSE comment interval; a WebSocket that misses one pong is dropped. */
export const DEFAULT_HEARTBEAT_MS = 15_000;
/** A long-poll request is answered after at most this long, empty if nothing came. */
export const DEFAULT_POLL_HOLD_MS = 25_000;
/** Largest client frame (or POST body) in UTF-8 bytes. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;
/** Unacknowledged hub→client frames kept per session; past either bound the session ends (`overflow`). */
export const DEFAULT_MAX_REPLAY_FRAMES = 4096;
export const DEFAULT_MAX_REPLAY_BYTES = 4 * 1024 * 1024;
/**
 * What one connection may hold in its write buffers (bytes written to it that the kernel
 * has not taken: its client is not reading), per byte of `maxReplayBytes`. A client that
 * acks only what it has read keeps all its unread frames in the replay buffer as well, so
 * it overflows that bound first; only one that acks what it never read (or floods `ping`s)
 * gets here. Past the bound the session ends (`overflow`), as for a full replay buffer.
 */
export const WRITE_BUFFER_PER_REPLAY_BYTE = 2;
export const DEFAULT_MAX_WRITE_BUFFER_BYTES = WRITE_BUFFER_PER_REPLAY_BYTE * DEFAULT_MAX_REPLAY_BYTES;
/** Token bucket per session, counting every client frame except `ack`. */
export const DEFAULT_RATE_PER_SECOND = 100;
export const DEFAULT_RATE_BURST = 200;
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 100;
export const DEFAULT_MAX_ROOMS_PER_SESSION = 16;
export const DEFAULT_MAX_PEERS_PER_ROOM = 50;
/** Largest `meta` object given at join, in UTF-8 bytes of its JSON. */
export const DEFAULT_MAX_META_BYTES = 2048;
/** Lifetime of TURN REST API credentials handed out in `welcome`. */
export const DEFAULT_TURN_TTL_SECONDS = 24 * 3600;

/** Prefix of every Redis key and channel of a hub cluster (several clusters may share a Redis). */
export const DEFAULT_REDIS_PREFIX = 'pinhole:';
/**
 * A node that has not refreshed its heartbeat in Redis for this long is dead: another node
 * detaches its sessions (their grace period starts from the dead node's last heartbeat).
 */
export const DEFAULT_NODE_TIMEOUT_MS = 5000;
/** How long a REST message id is remembered in Redis (memory mode keeps the last 4096 instead). */
export const DEFAULT_REST_ID_TTL_SECONDS = 600;

export interface TurnConfig {
  /** e.g. ['turn:example.com:3478?transport=udp', 'turns:example.com:5349?transport=tcp'] */
  urls: string[];
  /** Shared secret for TURN REST API credentials (coturn `static-auth-secret`); defaults to the hub secret. */
  secret?: string;
  ttlSeconds?: number;
}

/**
 * The numbers: what a session, a connection and a room may do, and for how long. Both
 * cores enforce the same ones (docs/protocol/hub.md §7).
 */
export interface HubLimits {
  graceMs: number;
  heartbeatMs: number;
  pollHoldMs: number;
  maxFrameBytes: number;
  maxReplayFrames: number;
  maxReplayBytes: number;
  /** Unset: `WRITE_BUFFER_PER_REPLAY_BYTE` × `maxReplayBytes`. */
  maxWriteBufferBytes: number;
  /** Infinity disables the rate limit. */
  ratePerSecond: number;
  rateBurst: number;
  maxConnectionsPerIp: number;
  maxRoomsPerSession: number;
  maxPeersPerRoom: number;
  maxMetaBytes: number;
}

/** Who may connect and from where, and the ICE servers a session is handed. */
export interface HubAccess {
  /** Shared secret for tokens and TURN credentials. Undefined = dev mode: anyone may join any room. */
  secret: string | undefined;
  /** Extra bearer keys accepted by the REST API (besides the secret and admin tokens). */
  apiKeys: string[];
  /** Browser origins allowed to connect; empty = any. */
  allowedOrigins: string[];
  /** Use the first X-Forwarded-For address as the client IP (behind a trusted proxy only). */
  trustProxy: boolean;
  /** STUN URLs handed out as-is, e.g. ['stun:example.com:3478']. */
  stunUrls: string[];
  turn: TurnConfig | undefined;
  /**
   * Dev mode only (no secret): the key service tokens are signed with, so that only code
   * holding the hub (`HubServer.serviceToken`) can mint one (docs/protocol/hub.md §6.1).
   * Undefined: a random one per process, never shown (nodes of a dev cluster that must
   * accept each other's services share one).
   */
  devServiceKey: string | undefined;
}

/** Where the state lives: this process (`redis` undefined), or a Redis shared by several nodes. */
export interface HubDeployment {
  /**
   * `redis://…` URL of a Redis shared by several hub nodes (scale-out): sessions, rooms and
   * delivery then live in Redis and any request of a session may land on any node.
   * Undefined: one process, state in memory.
   */
  redis: string | undefined;
  redisPrefix: string;
  /** This node's id in Redis, logs and metrics labels; default `<hostname>-<random>`. */
  nodeId: string;
  nodeTimeoutMs: number;
}

/** A deployment on Redis: what the Redis core is built with. */
export interface ClusterDeployment extends HubDeployment {
  redis: string;
}

/** What the hub uses but does not own: injected, so embedders and tests can replace them. */
export interface HubDependencies {
  logger: Logger;
  /** The clock (ms since epoch); tests move it by hand. */
  now: () => number;
  /**
   * Delivery to a peer id and room membership of the one-process core. Unset: memory ones,
   * made for that core only. The Redis core does not use them (its state is in Redis).
   */
  bus: Bus | undefined;
  rooms: RoomStore | undefined;
}

/** Switches for tests and diagnostics, never needed in production. */
export interface HubTestSwitches {
  /** Refuse WebSocket upgrades (as a hostile proxy would), forcing SSE / long-poll. */
  refuseWebSocket: boolean;
}

/**
 * Every option, merged with its default: one flat object, as `startHub` takes it. At
 * assembly it is split (`splitOptions`) so that each part of the hub gets only what it
 * uses: a core its limits, access rules and dependencies; the Redis core its deployment.
 */
export interface ResolvedHubOptions extends HubLimits, HubAccess, HubDeployment, HubDependencies, HubTestSwitches {}

export type HubOptions = Partial<ResolvedHubOptions>;

/** The parts of the options, each a separate object. */
export interface HubParts {
  limits: HubLimits;
  access: HubAccess;
  deployment: HubDeployment;
  deps: HubDependencies;
  switches: HubTestSwitches;
}

/**
 * Shared port (`singlePort`): how long a connection may take to show what it speaks (first
 * bytes, TLS handshake, first decrypted bytes), and how many may be undecided at once, in
 * total and per client address (IPv6: per /64). Past either it is closed (`over-limit`).
 */
export const DEFAULT_SHARED_PORT_CLASSIFY_TIMEOUT_MS = 10_000;
export const DEFAULT_SHARED_PORT_MAX_PENDING = 1024;
export const DEFAULT_SHARED_PORT_MAX_PENDING_PER_SOURCE = 64;
