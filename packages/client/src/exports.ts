/** The public API shared by the browser and Node entries. */
/** The one JSON type of the SDK and the wire (signals, metadata, channel messages). */
export type { Json } from '@pinhole/protocol';
export { Session, type ConnectOptions, type SessionEvents } from './session.js';
export { Room, type RoomOptions, type RoomEvents, type RoomStream } from './room.js';
export type { SfuRefusal, TopologyMode } from './sfu/topology.js';
export type { SfuMediaReport } from './sfu/report.js';
export { RemotePeer, type RemotePeerEvents } from './remote-peer.js';
export { Emitter } from './emitter.js';
export { HubSignaler, HubError, type HubSignalerEvents } from './signaling/hub-signaler.js';
export { HubConnection, type HubConnectionOptions, type TokenSource, type ConnectionState, type HubUrls } from './signaling/hub-connection.js';
export type { Signaler, SignalerEvents, SignalerState } from './signaling/signaler.js';
export { TRANSPORTS, LinkError, type TransportName } from './signaling/link.js';
export { SignalingError, type SignalingErrorCode } from './signaling/errors.js';
export { MqttSignaler, type MqttSignalerOptions, type MqttConnect } from './signaling/mqtt.js';
export type { BrokerSignalerEvents } from './signaling/broker-signaler.js';
export { ManualSignaler, type ManualSignalerOptions, type ManualSignalerEvents, type ManualRole } from './signaling/manual.js';
export { encodeManual, decodeManual, MANUAL_PREFIX, type ManualDescription } from './signaling/manual-sdp.js';
export { SignalerChain, type ChainRung, type SignalerChainEvents } from './signaling/chain.js';
export { InBandSignaler, type InBandSignalerEvents, type InBandStatus } from './signaling/in-band.js';
export { SealedSignaler, SEALED_VERSION, type SealedSignalerOptions, type SealedSignalerEvents, type SealedPayload } from './signaling/sealed.js';
export type { ReconnectOptions } from './signaling/backoff.js';
export { browserPlatform, type Platform, type WebSocketLike } from './signaling/platform.js';
export { PeerConnection, type PeerConnectionOptions, type PeerConnectionEvents, type RTCPeerConnectionConstructor } from './peer/peer-connection.js';
export type { ConnectivityReport } from './peer/report.js';
export type { RtcSignal } from './peer/signals.js';
export { LocalMedia, type LocalMediaOptions, type LocalMediaEvents } from './media/local-media.js';
export * from './data/index.js';
