/**
 * The logger the agent writes to: the subset of pino's API it uses, so the CLI passes its
 * pino logger and an embedder passes whatever it has (or nothing: silent).
 */
export interface AgentLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: AgentLogger = { debug() {}, info() {}, warn() {}, error() {} };
