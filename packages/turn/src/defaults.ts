/**
 * Every default and limit of @pinhole/turn, in one place. Doc comments elsewhere cite these
 * names instead of copying the numbers.
 */

/** Address the UDP/TCP listeners bind to when `listeningIp` is not given. */
export const DEFAULT_LISTENING_IP = '0.0.0.0';
/** RFC 8656 §4: the default port for TURN over UDP and TCP. */
export const DEFAULT_PORT = 3478;
/** RFC 8656 §4: the default port for TURN over TLS. */
export const DEFAULT_TLS_PORT = 5349;
/** Address advertised in XOR-RELAYED-ADDRESS when listening on an unspecified address. */
export const DEFAULT_RELAY_IP_WHEN_UNSPECIFIED = '127.0.0.1';
/** Realm of the long-term credential mechanism (RFC 8489 §9.2). */
export const DEFAULT_REALM = 'pinhole';
/** Value of the SOFTWARE attribute (RFC 8489 §14.14) in our responses. */
export const DEFAULT_SOFTWARE = 'pinhole-turn';

/** Lowest relay port (IANA dynamic range, RFC 8656 §7.2 recommends 49152–65535). */
export const DEFAULT_MIN_PORT = 49152;
/** Highest relay port. */
export const DEFAULT_MAX_PORT = 65535;
/** How many random ports the relay pool tries before answering 508 Insufficient Capacity. */
export const RELAY_BIND_ATTEMPTS = 32;

/** RFC 8656 §3.8: allocations live 10 minutes unless refreshed. */
export const DEFAULT_ALLOCATION_LIFETIME_S = 600;
/** Upper bound on a requested LIFETIME (RFC 8656 §7.2 suggests 3600 s). */
export const MAX_ALLOCATION_LIFETIME_S = 3600;
/** RFC 8656 §9: a permission lasts 300 s. */
export const PERMISSION_LIFETIME_S = 300;
/** RFC 8656 §12: a channel binding lasts 600 s. */
export const CHANNEL_BINDING_LIFETIME_S = 600;
/** RFC 8656 §12: after expiry a channel number and peer stay reserved for 300 s more. */
export const CHANNEL_REBIND_COOLDOWN_S = 300;
/** RFC 8656 §7.2 / §14.9: a RESERVATION-TOKEN stays valid about 30 s. */
export const RESERVATION_LIFETIME_S = 30;
/** How long a NONCE is accepted before 438 Stale Nonce (RFC 8489 §9.2.2). */
export const DEFAULT_NONCE_LIFETIME_S = 600;

/** 486 once one user holds this many allocations. */
export const DEFAULT_MAX_ALLOCATIONS_PER_USER = 50;
/** 486 once the server holds this many allocations in total. */
export const DEFAULT_MAX_ALLOCATIONS = 1000;
/**
 * Per-allocation relay budget in bytes per second, both directions together; excess datagrams
 * are dropped. 0 disables the cap. 4 MB/s ≈ 32 Mbit/s: HD video plus a screen share.
 */
export const DEFAULT_BANDWIDTH_BYTES_PER_SECOND = 4_000_000;
/** The token bucket holds this many seconds of budget (burst size). */
export const BANDWIDTH_BURST_SECONDS = 1;

/**
 * Accept RFC 5766 channel numbers (0x5000–0x7FFF) besides RFC 8656's 0x4000–0x4FFF: coturn's
 * turnutils_uclient and other RFC 5766 clients use them, and a server that does not
 * demultiplex DTLS/SRTP on its port loses nothing by accepting them.
 */
export const DEFAULT_ALLOW_LEGACY_CHANNEL_NUMBERS = true;

/** Housekeeping period: expiry of allocations, permissions, channels and reservations. */
export const DEFAULT_TICK_INTERVAL_MS = 1000;
/** Kernel socket buffer we ask for on listeners and relays (the kernel may cap it). */
export const DEFAULT_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
/** Bytes a TCP/TLS client may leave unframed before we drop the connection. */
export const MAX_STREAM_BUFFER_BYTES = 4 + 65535 + 3 + 20;
/**
 * TCP/TLS connections that hold no allocation this long after connecting are closed (coturn's
 * `max-allocate-timeout` is alike). Once allocated, a connection closes with its allocation.
 */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 30_000;
/**
 * TCP/TLS client connections in total (TLS handshakes in progress included); more are closed
 * at once. Each allocation needs one; the rest is room for connections still authenticating.
 */
export const DEFAULT_MAX_STREAM_CONNECTIONS = 2 * DEFAULT_MAX_ALLOCATIONS;
/**
 * TCP/TLS client connections per source address (per /64 for IPv6: one host holds a whole
 * /64). Generous because an office behind one NAT, where UDP is blocked, shares an address.
 */
export const DEFAULT_MAX_STREAM_CONNECTIONS_PER_SOURCE = 128;
/** How long a closing TCP/TLS connection may take to flush before it is destroyed. */
export const STREAM_CLOSE_GRACE_MS = 2_000;
/** A TCP/TLS client whose unsent data exceeds this gets relayed datagrams dropped, not queued. */
export const MAX_STREAM_WRITE_BUFFER_BYTES = 1024 * 1024;
/**
 * Error-level log lines about unexpected failures: at most this many at once, then one per
 * ERROR_LOG_INTERVAL_MS, so a client that hits a bug on every packet cannot flood the logs.
 */
export const ERROR_LOG_BURST = 10;
export const ERROR_LOG_INTERVAL_MS = 6_000;
