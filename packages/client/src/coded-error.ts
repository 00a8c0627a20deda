/** Base of the SDK layers' errors (peer, data, signaling): a machine-readable `code`; `cause` is kept. */
export class CodedError<C extends string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `cause` as a `Kind` error: itself if it is one already, else wrapped as `what: its message`. @internal */
export function asCodedError<C extends string, E extends CodedError<C>>(
  Kind: new (code: C, message: string, options?: { cause?: unknown }) => E,
  code: C,
  what: string,
  cause: unknown,
): E {
  if (cause instanceof Kind) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new Kind(code, `${what}: ${detail}`, { cause });
}
