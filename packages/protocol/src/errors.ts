import type { ErrorCode, ErrorFrame, FrameId } from './frames.js';

/** A protocol-level failure: carries the wire `code` sent in an `error` frame. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly ref?: FrameId,
    readonly frame?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The `error` frame that reports this failure outside a session's numbered stream (no `seq`). */
  toFrame(): ErrorFrame {
    const frame: ErrorFrame = { type: 'error', code: this.code, message: this.message };
    if (this.ref !== undefined) frame.ref = this.ref;
    if (this.frame !== undefined) frame.frame = this.frame;
    return frame;
  }
}

/** HTTP status used when a protocol error answers an HTTP request. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'bad-json':
    case 'bad-frame':
    case 'unknown-type':
    case 'hello-required':
    case 'already-welcomed':
      return 400;
    case 'unauthorized':
    case 'token-expired':
      return 401;
    case 'forbidden':
    case 'origin-not-allowed':
      return 403;
    case 'session-unknown':
    case 'unknown-peer':
    case 'not-in-room':
      return 404;
    case 'room-full':
    case 'too-many-rooms':
    case 'replaced':
      return 409;
    case 'too-large':
      return 413;
    case 'rate-limited':
    case 'too-many-connections':
    case 'overflow':
      return 429;
    case 'not-found':
      return 404;
    case 'internal':
      return 500;
  }
}
