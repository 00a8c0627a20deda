import {
  DEFAULT_ALLOCATION_LIFETIME_S,
  DEFAULT_ALLOW_LEGACY_CHANNEL_NUMBERS,
  DEFAULT_BANDWIDTH_BYTES_PER_SECOND,
  DEFAULT_LISTENING_IP,
  DEFAULT_MAX_ALLOCATIONS,
  DEFAULT_MAX_ALLOCATIONS_PER_USER,
  DEFAULT_MAX_PORT,
  DEFAULT_MAX_STREAM_CONNECTIONS,
  DEFAULT_MAX_STREAM_CONNECTIONS_PER_SOURCE,
  DEFAULT_MIN_PORT,
  DEFAULT_NONCE_LIFETIME_S,
  DEFAULT_PORT,
  DEFAULT_REALM,
  DEFAULT_RELAY_IP_WHEN_UNSPECIFIED,
  DEFAULT_SOFTWARE,
  DEFAULT_STREAM_IDLE_TIMEOUT_MS,
  DEFAULT_TICK_INTERVAL_MS,
  DEFAULT_TLS_PORT,
  MAX_ALLOCATION_LIFETIME_S,
} from './defaults.js';
import { invalidOptions } from './errors.js';
import { ipFamily } from './stun/address.js';
import { PeerFilter } from './turn/peer-filter.js';

/** A pino-compatible logger (pino itself fits); every method is optional to call. */
export interface TurnLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** TURN over TLS (RFC 8656 §3.2). */
export interface TurnTlsOptions {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** Defaults to DEFAULT_TLS_PORT; 0 picks an ephemeral port. */
  readonly port?: number;
}

/** Every option, with defaults applied. */
export interface ResolvedTurnServerOptions {
  /** Address of the UDP/TCP/TLS listeners (DEFAULT_LISTENING_IP); startTurnServer also resolves a host name. */
  readonly listeningIp: string;
  /** UDP port (DEFAULT_PORT); 0 = ephemeral, read it back from `server.ports`. */
  readonly udpPort: number;
  /** TCP port (DEFAULT_PORT); 0 = ephemeral. */
  readonly tcpPort: number;
  /** TLS listener, off unless given. */
  readonly tls: { readonly cert: string | Buffer; readonly key: string | Buffer; readonly port: number } | undefined;
  /** Address advertised in XOR-RELAYED-ADDRESS: the listening IP, or DEFAULT_RELAY_IP_WHEN_UNSPECIFIED when that is 0.0.0.0/::. */
  readonly relayIp: string;
  /** Address relay sockets bind to: the listening IP by default (may differ from relayIp behind 1:1 NAT). */
  readonly relayBindIp: string;
  /** Relay port range, inclusive (DEFAULT_MIN_PORT–DEFAULT_MAX_PORT). */
  readonly minPort: number;
  readonly maxPort: number;
  /** DEFAULT_REALM */
  readonly realm: string;
  /** TURN REST API shared secret (coturn `static-auth-secret`). */
  readonly secret: string | undefined;
  /** Fixed username → password pairs. */
  readonly staticUsers: Readonly<Record<string, string>>;
  /** CIDRs of peers allowed even inside the default-denied ranges (DEFAULT_DENIED_PEER_RANGES). */
  readonly allowPeers: readonly string[];
  /** DEFAULT_MAX_ALLOCATIONS_PER_USER; beyond it Allocate gets 486. */
  readonly maxAllocationsPerUser: number;
  /** DEFAULT_MAX_ALLOCATIONS; beyond it Allocate gets 486. */
  readonly maxAllocations: number;
  /** Per-allocation relay cap in bytes/s (DEFAULT_BANDWIDTH_BYTES_PER_SECOND); 0 = no cap. */
  readonly bandwidthBytesPerSecond: number;
  /** SOFTWARE attribute (DEFAULT_SOFTWARE); '' leaves it out. */
  readonly software: string;
  /** DEFAULT_NONCE_LIFETIME_S; older nonces get 438. */
  readonly nonceLifetimeSeconds: number;
  /** DEFAULT_ALLOCATION_LIFETIME_S and MAX_ALLOCATION_LIFETIME_S (RFC 8656 §7.2). */
  readonly defaultLifetimeSeconds: number;
  readonly maxLifetimeSeconds: number;
  /**
   * Accept RFC 5766 channel numbers 0x5000–0x7FFF in ChannelBind as well as RFC 8656's
   * 0x4000–0x4FFF (DEFAULT_ALLOW_LEGACY_CHANNEL_NUMBERS).
   */
  readonly allowLegacyChannelNumbers: boolean;
  /** DEFAULT_TICK_INTERVAL_MS */
  readonly tickIntervalMs: number;
  /** TCP/TLS connections without an allocation this long after connecting are closed (DEFAULT_STREAM_IDLE_TIMEOUT_MS). */
  readonly streamIdleTimeoutMs: number;
  /** TCP/TLS connections in total (DEFAULT_MAX_STREAM_CONNECTIONS); more are closed at once. */
  readonly maxStreamConnections: number;
  /** TCP/TLS connections per source IPv4 address or IPv6 /64 (DEFAULT_MAX_STREAM_CONNECTIONS_PER_SOURCE). */
  readonly maxStreamConnectionsPerSource: number;
  readonly logger: TurnLogger | undefined;
}

/** Options of startTurnServer; `host` is an alias of `listeningIp`. */
export type TurnServerOptions = Partial<Omit<ResolvedTurnServerOptions, 'tls'>> & {
  readonly host?: string;
  readonly tls?: TurnTlsOptions;
};

function port(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw invalidOptions(`${name} must be a port number, got ${value}`);
  return value;
}

function positive(value: number, name: string, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) throw invalidOptions(`${name} must be positive, got ${value}`);
  return value;
}

/** Node's timers take at most 2^31 − 1 ms; a longer delay silently becomes 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function timerMs(value: number, name: string): number {
  if (positive(value, name) > MAX_TIMER_MS) throw invalidOptions(`${name} must be at most ${MAX_TIMER_MS} ms, got ${value}`);
  return value;
}

function count(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw invalidOptions(`${name} must be a whole number ≥ 1, got ${value}`);
  return value;
}

/** Merge defaults once and validate; throws TurnError('invalid-options'). */
export function resolveOptions(options: TurnServerOptions = {}): ResolvedTurnServerOptions {
  const listeningIp = options.listeningIp ?? options.host ?? DEFAULT_LISTENING_IP;
  if (!ipFamily(listeningIp)) throw invalidOptions(`listeningIp must be an IP address, got ${listeningIp}`);
  const unspecified = listeningIp === '0.0.0.0' || listeningIp === '::';
  const relayIp = options.relayIp ?? (unspecified ? DEFAULT_RELAY_IP_WHEN_UNSPECIFIED : listeningIp);
  const relayBindIp = options.relayBindIp ?? listeningIp;
  if (!ipFamily(relayIp)) throw invalidOptions(`relayIp must be an IP address, got ${relayIp}`);
  if (!ipFamily(relayBindIp)) throw invalidOptions(`relayBindIp must be an IP address, got ${relayBindIp}`);
  const minPort = port(options.minPort ?? DEFAULT_MIN_PORT, 'minPort');
  const maxPort = port(options.maxPort ?? DEFAULT_MAX_PORT, 'maxPort');
  if (minPort < 1 || maxPort < minPort) throw invalidOptions(`relay port range ${minPort}-${maxPort} is empty`);
  const secret = options.secret;
  const staticUsers = options.staticUsers ?? {};
  if (!secret && Object.keys(staticUsers).length === 0) throw invalidOptions('no credentials: set secret and/or staticUsers');
  const allowPeers = options.allowPeers ?? [];
  new PeerFilter(allowPeers); // validates the CIDRs now rather than on the first packet
  const defaultLifetimeSeconds = positive(options.defaultLifetimeSeconds ?? DEFAULT_ALLOCATION_LIFETIME_S, 'defaultLifetimeSeconds');
  const maxLifetimeSeconds = positive(options.maxLifetimeSeconds ?? MAX_ALLOCATION_LIFETIME_S, 'maxLifetimeSeconds');
  return {
    listeningIp,
    udpPort: port(options.udpPort ?? DEFAULT_PORT, 'udpPort'),
    tcpPort: port(options.tcpPort ?? DEFAULT_PORT, 'tcpPort'),
    tls: options.tls && { cert: options.tls.cert, key: options.tls.key, port: port(options.tls.port ?? DEFAULT_TLS_PORT, 'tls.port') },
    relayIp,
    relayBindIp,
    minPort,
    maxPort,
    realm: options.realm ?? DEFAULT_REALM,
    secret,
    staticUsers,
    allowPeers,
    maxAllocationsPerUser: positive(options.maxAllocationsPerUser ?? DEFAULT_MAX_ALLOCATIONS_PER_USER, 'maxAllocationsPerUser', true),
    maxAllocations: positive(options.maxAllocations ?? DEFAULT_MAX_ALLOCATIONS, 'maxAllocations', true),
    bandwidthBytesPerSecond: positive(options.bandwidthBytesPerSecond ?? DEFAULT_BANDWIDTH_BYTES_PER_SECOND, 'bandwidthBytesPerSecond', true),
    software: options.software ?? DEFAULT_SOFTWARE,
    nonceLifetimeSeconds: positive(options.nonceLifetimeSeconds ?? DEFAULT_NONCE_LIFETIME_S, 'nonceLifetimeSeconds'),
    defaultLifetimeSeconds,
    maxLifetimeSeconds: Math.max(maxLifetimeSeconds, defaultLifetimeSeconds),
    allowLegacyChannelNumbers: options.allowLegacyChannelNumbers ?? DEFAULT_ALLOW_LEGACY_CHANNEL_NUMBERS,
    tickIntervalMs: positive(options.tickIntervalMs ?? DEFAULT_TICK_INTERVAL_MS, 'tickIntervalMs'),
    streamIdleTimeoutMs: timerMs(options.streamIdleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS, 'streamIdleTimeoutMs'),
    maxStreamConnections: count(options.maxStreamConnections ?? DEFAULT_MAX_STREAM_CONNECTIONS, 'maxStreamConnections'),
    maxStreamConnectionsPerSource: count(options.maxStreamConnectionsPerSource ?? DEFAULT_MAX_STREAM_CONNECTIONS_PER_SOURCE, 'maxStreamConnectionsPerSource'),
    logger: options.logger,
  };
}
