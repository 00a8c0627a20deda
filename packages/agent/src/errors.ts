/** Machine-readable codes of every error the agent and its clients report. */
export type AgentErrorCode =
  /** A named channel whose name is no service of this agent. */
  | 'unknown-service'
  /** A request whose `op` the service does not have. */
  | 'unknown-op'
  /** A request that is not a JSON object with the fields its op needs, or too large. */
  | 'bad-request'
  /** A path with `..`, NUL, or one that leaves the shared directory (symlinks included). */
  | 'bad-path'
  | 'not-found'
  | 'not-a-file'
  | 'not-a-directory'
  /** A download offset past the end of the file. */
  | 'bad-offset'
  /** The service has nothing to serve (agent started without --share). */
  | 'not-shared'
  /** Reading or writing a file failed. */
  | 'io'
  /** A forward stream asked for a target the agent does not expose. */
  | 'unknown-target'
  /** The agent could not connect to the exposed TCP target. */
  | 'connect-failed'
  /** A forward stream message that does not parse or comes out of order. */
  | 'bad-message'
  /** The peer sent more unacknowledged bytes than the window allows. */
  | 'window-exceeded'
  /** The TCP socket on one side failed (its reason is in the message). */
  | 'socket-error'
  /** The stream's data channel closed before both directions had ended. */
  | 'stream-lost'
  /** No reply or no open within the time allowed. */
  | 'timeout'
  /** No agent is in the room (client side). */
  | 'no-agent'
  /** The channel, client or agent was closed. */
  | 'closed'
  /** The hub refused us for good (bad token, replaced session). */
  | 'hub';

/** Base error of the agent package: `code` is always set, `cause` is kept. */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What an error reply carries on the wire. */
export interface WireError {
  code: string;
  message: string;
}

export function toWire(err: unknown): WireError {
  if (err instanceof AgentError) return { code: err.code, message: err.message };
  return { code: 'io', message: err instanceof Error ? err.message : String(err) };
}

/** An error reply from the wire as an AgentError (unknown codes are kept in the message). */
export function fromWire(e: unknown): AgentError {
  const { code, message } = (e ?? {}) as Partial<WireError>;
  const known = typeof code === 'string' && CODES.has(code as AgentErrorCode);
  return new AgentError(known ? (code as AgentErrorCode) : 'bad-message', typeof message === 'string' ? message : `remote error ${String(code)}`);
}

const CODES = new Set<AgentErrorCode>([
  'unknown-service', 'unknown-op', 'bad-request', 'bad-path', 'not-found', 'not-a-file', 'not-a-directory', 'bad-offset',
  'not-shared', 'io', 'unknown-target', 'connect-failed', 'bad-message', 'window-exceeded', 'socket-error', 'stream-lost',
  'timeout', 'no-agent', 'closed', 'hub',
]);
