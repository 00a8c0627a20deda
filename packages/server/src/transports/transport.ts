import { ProtocolError, type ErrorCode } from '@pinhole/protocol';

export type TransportName = 'ws' | 'sse' | 'poll';

/** The loose `error` frame a downstream writes just before the hub closes it. */
export function closingError(code: ErrorCode, message = ''): string {
  return JSON.stringify(new ProtocolError(code, message).toFrame());
}

/**
 * Corks a socket until the end of the current tick, so every frame written to it while
 * one batch of input is processed leaves in one syscall instead of one per frame.
 */
export function corkForTick(socket: { cork(): void; uncork(): void; writableCorked: number }): void {
  if (socket.writableCorked > 0) return;
  socket.cork();
  process.nextTick(() => socket.uncork());
}

/** A sequenced frame, encoded once and kept in the replay buffer until acked. */
export interface Encoded {
  seq: number;
  text: string;
  /** UTF-8 size of `text`, counted once for the replay buffer's byte bound. */
  bytes: number;
}

/**
 * Hub side of one client connection: where a session's frames go. One file per
 * transport implements it; the session never knows which one it has.
 */
export interface Downstream {
  readonly name: TransportName;
  /** Writes sequenced frames, in order. */
  write(frames: readonly Encoded[]): void;
  /** Writes a frame that is not sequenced (`pong`); dropped if it cannot go now. */
  writeLoose(text: string): void;
  /** Ends this connection; with a code, tells the client why first (best effort). */
  close(code?: ErrorCode, message?: string): void;
}
