/** Defaults of the rendezvous signalers (MQTT, Redis, manual/QR, sealed, chain). */

/** MQTT topic prefix (docs/protocol/rendezvous.md §14.1). */
export const DEFAULT_MQTT_PREFIX = 'pinhole/v1';
/**
 * A presence is valid this long without a refresh; members refresh it every third of it,
 * and a member silent for longer is reported gone (`timeout`).
 */
export const DEFAULT_PRESENCE_TTL_MS = 30_000;
/** Opening a broker connection (and a join's round trip) may take this long. */
export const DEFAULT_BROKER_CONNECT_TIMEOUT_MS = 8_000;
/** MQTT keep-alive: the broker publishes our last will after 1.5 × this of silence. */
export const DEFAULT_MQTT_KEEPALIVE_S = 20;
/** Largest broker message accepted or sent (bytes of UTF-8 JSON); SDPs are a few KiB. */
export const MAX_BROKER_PAYLOAD_BYTES = 256 * 1024;
/** Manual exchange: how long to wait for ICE gathering to complete before encoding what we have. */
export const DEFAULT_GATHER_TIMEOUT_MS = 5_000;
/** Largest decoded manual string accepted (inflated bytes): guards against deflate bombs. */
export const MAX_MANUAL_INFLATED_BYTES = 64 * 1024;
/** Chain: opening a rung's signaler and joining the rooms on it may take this long. */
export const DEFAULT_RUNG_CONNECT_TIMEOUT_MS = 8_000;
/** Redis key and channel prefix (docs/protocol/rendezvous.md §14.4). */
export const DEFAULT_REDIS_PREFIX = 'pinhole:v1';
/** Sealed signaling: PBKDF2-SHA-256 iterations deriving a room's key from its passphrase (§14.5). */
export const SEAL_PBKDF2_ITERATIONS = 200_000;
/** Sealed signaling: the PBKDF2 salt is this prefix + the room name (UTF-8). */
export const SEAL_SALT_PREFIX = 'pinhole-sealed-v1:';
/**
 * In-band signaling: largest control-channel frame accepted (characters of JSON). An SDP with
 * a few media sections is tens of KiB; 64 KiB stays under every implementation's SCTP
 * max-message-size (RFC 8841 §6.1 default 64 KiB).
 */
export const MAX_IN_BAND_FRAME_BYTES = 64 * 1024;
