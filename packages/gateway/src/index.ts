export { Gateway, WHIP_RESOURCE_PREFIX, type EndReason, type GatewayAccess, type GatewayStats, type GatewayAction, type GatewayLogger, type GatewayOptions, type SessionKind } from './gateway.js';
export { GatewayError } from './errors.js';
export { iceServerLinks } from './http.js';
export type { IngestRequest, MediaBackend, MediaSession, ViewRequest } from './media.js';
export { parseSdpFrag, type FragCandidate, type SdpFrag } from './sdpfrag.js';
export { SfuBackend } from './sfu-backend.js';
export { hubAccess, type HubAuthority } from './hub-access.js';
export { GATEWAY_METRIC_NAMES, SFU_METRIC_NAMES, registerGatewayMetrics, registerSfuMetrics } from './metrics.js';
