/**
 * @pinhole/agent: a dial-out-only Node peer that serves `echo`, `files` and `forward` over
 * data channels (Agent), and the client side of those services (AgentClient).
 */
export { Agent, type AgentOptions, type AgentEvents, type AgentAnnouncement } from './agent.js';
export { AgentClient, agentOf, type DownloadResult } from './client.js';
export { LocalForward, type LocalForwardOptions } from './local-forward.js';
export { StreamBridge, resolveStreamOptions, type StreamOptions, type ResolvedStreamOptions, type StreamResult } from './stream.js';
export { parseStreamControl, encodeStreamControl, type StreamControl } from './stream-wire.js';
export type { ExposedTarget } from './services/forward.js';
export type { FileEntry, GetReply } from './services/files.js';
export { AgentError, type AgentErrorCode } from './errors.js';
export { silentLogger, type AgentLogger } from './logger.js';
export * as defaults from './defaults.js';
