/**
 * @pinhole/turn — an embedded STUN/TURN server (RFC 8489, RFC 8656) over UDP, TCP and TLS,
 * with TURN REST API credentials. The protocol core is sans-IO (TurnServerCore); sockets live
 * in startTurnServer.
 */
export { startTurnServer } from './node/server.js';
export type { TurnServer, TurnServerPorts } from './node/server.js';
export { ConnectionLimits, connectionSource } from './node/connection-limits.js';
export { resolveOptions } from './options.js';
export type { ResolvedTurnServerOptions, TurnLogger, TurnServerOptions, TurnTlsOptions } from './options.js';
export { restPassword, turnCredentials, verifyRestUsername } from './credentials.js';
export type { TurnCredentials, VerifiedRestUser } from './credentials.js';
export type { TurnStats } from './turn/stats.js';
export { TurnError, StunDecodeError } from './errors.js';
export type { TurnErrorCode } from './errors.js';
export {
  DEFAULT_ALLOCATION_LIFETIME_S,
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
  DEFAULT_SOFTWARE,
  DEFAULT_STREAM_IDLE_TIMEOUT_MS,
  DEFAULT_TLS_PORT,
  MAX_ALLOCATION_LIFETIME_S,
  PERMISSION_LIFETIME_S,
  CHANNEL_BINDING_LIFETIME_S,
} from './defaults.js';

// Protocol building blocks, for clients, tests and tools.
export { StunMessage, decodeStunMessage, looksLikeStun } from './stun/message.js';
export type { EncodeOptions, RawAttribute } from './stun/message.js';
export { Attributes, PasswordAlgorithm, isComprehensionRequired } from './stun/attributes.js';
export type { AttributeName, AttributeValue, ErrorCodeValue, PasswordAlgorithmValue } from './stun/attributes.js';
export { ErrorCode, MAGIC_COOKIE, Method, MessageClass, TRANSPORT_UDP, reasonPhrase } from './stun/constants.js';
export type { TransportAddress } from './stun/address.js';
export { longTermKey, shortTermKey, verifyIntegrity, saslPrep } from './stun/integrity.js';
export type { IntegrityAlgorithm, IntegrityCheck } from './stun/integrity.js';
export { crc32, fingerprintOf } from './stun/fingerprint.js';
export { decodeChannelData, encodeChannelData, looksLikeChannelData } from './stun/channel-data.js';
export type { ChannelData } from './stun/channel-data.js';
export { StreamFramer } from './stun/framing.js';

// The sans-IO core, for embedding behind other socket layers.
export { TurnServerCore } from './turn/core.js';
export type { CoreDeps, CoreOptions } from './turn/context.js';
export type { TurnAction } from './turn/actions.js';
export type { FiveTuple, ClientTransport } from './turn/five-tuple.js';
export { PeerFilter, DEFAULT_DENIED_PEER_RANGES } from './turn/peer-filter.js';
