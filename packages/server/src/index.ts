export { startHub, createHubServer, resolveOptions, type HubServer, type RunningHub, type ListenOptions } from './server.js';
export { SHARED_PORT_METRIC_NAMES, type SinglePortOptions } from './shared-port/listen.js';
export { classifyFirstBytes, type FirstBytes } from './shared-port/first-bytes.js';
export type { SharedPortProtocol, SharedPortRefusal } from './shared-port/shared-port.js';
export {
  DEFAULT_GRACE_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_POLL_HOLD_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_REPLAY_FRAMES,
  DEFAULT_MAX_REPLAY_BYTES,
  DEFAULT_RATE_PER_SECOND,
  DEFAULT_RATE_BURST,
  DEFAULT_MAX_CONNECTIONS_PER_IP,
  DEFAULT_MAX_ROOMS_PER_SESSION,
  DEFAULT_MAX_PEERS_PER_ROOM,
  DEFAULT_MAX_META_BYTES,
  DEFAULT_TURN_TTL_SECONDS,
  type HubOptions,
  type ResolvedHubOptions,
  type HubLimits,
  type HubAccess,
  type HubDeployment,
  type HubDependencies,
  type HubTestSwitches,
  type TurnConfig,
} from './defaults.js';
export { mintToken, verifyToken, PERMISSIONS, DEFAULT_PERMISSIONS, type Permission, type TokenClaims, type Grant } from './auth.js';
export { turnCredentials, type TurnCredentials } from '@pinhole/turn';
export { registerTurnMetrics, createTurnMetricsRegistry, TURN_METRIC_NAMES } from './turn-metrics.js';
export { Hub, type MemoryCoreDeps } from './hub.js';
export type { HubCore, SessionHandle, CoreConfig, CoreDeps } from './core.js';
export type { HubMetrics } from './metrics.js';
export type { Bus, OutboundFrame } from './bus/bus.js';
export { MemoryBus } from './bus/memory.js';
export { MemoryRoomStore, type RoomStore } from './rooms.js';
export { SERVER_PEER } from './rest.js';
