/**
 * A refused WHIP/WHEP request: the HTTP status RFC 9725 names for it, a code and a reason.
 * The body has the hub's error shape, `{"type":"error","code":…,"message":…}`.
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers (e.g. Retry-After with 503). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
