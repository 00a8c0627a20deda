/**
 * `@pinhole/client/broker`: the building blocks of a Signaler on a pub/sub broker, as the MQTT
 * signaler and @pinhole/node's Redis signaler use them (docs/protocol/rendezvous.md §14): the
 * base class, the wire format and the defaults. For packages that add a broker; apps use the
 * signalers themselves.
 */
export { BrokerSignaler, type BrokerSignalerEvents, type JoinedRoom } from './signaling/broker-signaler.js';
export { decodeMessage, decodeRoom, encodeMessage, encodeRoom, randomPeerId, type BrokerMessage, type DataMessage } from './signaling/broker-wire.js';
export { SignalingError, withTimeout } from './signaling/errors.js';
export { DEFAULT_BROKER_CONNECT_TIMEOUT_MS, DEFAULT_PRESENCE_TTL_MS, DEFAULT_REDIS_PREFIX, INTERFACE_POLL_MS, PRESENCE_GRACE_MS } from './defaults.js';
