/** Machine-readable codes of every error @pinhole/turn throws or rejects with. */
export type TurnErrorCode =
  /** A STUN message or attribute could not be parsed (RFC 8489 §5, §14). */
  | 'malformed-stun'
  /** An option given to startTurnServer is invalid. */
  | 'invalid-options'
  /** A listener could not bind its address/port. */
  | 'bind-failed';

/** Base error of the package: `code` is always set, `cause` is kept. */
export class TurnError extends Error {
  override readonly name: string = 'TurnError';
  constructor(
    readonly code: TurnErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A malformed STUN message or attribute; never escapes the socket layer. */
export class StunDecodeError extends TurnError {
  override readonly name = 'StunDecodeError';
  constructor(message: string) {
    super('malformed-stun', message);
  }
}

/** @internal */
export function invalidOptions(message: string): TurnError {
  return new TurnError('invalid-options', message);
}

/** @internal */
export function bindFailed(what: string, cause: unknown): TurnError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new TurnError('bind-failed', `${what}: ${detail}`, { cause });
}
