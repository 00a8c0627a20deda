/** @pinhole/cli: the `pinhole` command, also usable in-process (tests, embedding). */
export { runCli, cliVersion } from './cli.js';
export type { CliIO, Output } from './io.js';
export { CliError, EXIT_USAGE, EXIT_FAILURE, type CliErrorCode } from './errors.js';
export { resolveOptions, loadConfigFile, parseFlags, type Env, type Resolved, type Source, type ConfigFile } from './config.js';
export {
  serveOptions,
  turnOptions,
  tokenOptions,
  turnCredentialsOptions,
  CONFIG_FILE_KEYS,
  DEFAULT_PORT,
  DEFAULT_HOST,
  DEFAULT_TURN_PORT,
  DEFAULT_TURN_TLS_PORT,
  DEFAULT_TURN_REALM,
  DEFAULT_TURN_RELAY_MIN_PORT,
  DEFAULT_TURN_RELAY_MAX_PORT,
  parseCidr,
  parseTurnUser,
  staticUsersOf,
  DEFAULT_TTL_SECONDS,
  defaultDataDir,
  type Option,
  type OptionTable,
  type Values,
  type ServeValues,
  type TurnValues,
  type TokenValues,
  type TurnCredentialsValues,
} from './options.js';
export {
  parseDuration,
  parseTtlSeconds,
  parsePort,
  parseCount,
  parseRate,
  parseBoolean,
  LOG_LEVELS,
  PERMISSIONS,
  type LogLevel,
  type Permission,
} from './values.js';
export {
  loadOrCreateSelfSigned,
  loadTlsFiles,
  selfSignedAltNames,
  CERT_FILE,
  KEY_FILE,
  type TlsMaterial,
  type SelfSignedOptions,
} from './tls.js';
export {
  startEmbeddedTurn,
  EMBEDDED_TURN_UNAVAILABLE,
  type StartTurn,
  type EmbeddedTurn,
  type EmbeddedTurnOptions,
} from './turn.js';
export { servedUrls, lanAddresses, type ServedUrls } from './addresses.js';
export {
  serveCommand,
  startServe,
  buildHubOptions,
  planTurn,
  turnServerOptions,
  type RunningServe,
  type StartHubOptions,
  type TurnPlan,
} from './commands/serve.js';
export { tokenCommand } from './commands/token.js';
export { turnCommand, startTurnCommand, type RunningTurn } from './commands/turn-server.js';
export { turnCredentialsCommand, type TurnCredentialsOutput } from './commands/turn-credentials.js';
