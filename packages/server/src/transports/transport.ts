import type { ServerResponse } from 'node:http';
import { ProtocolError, type ErrorCode } from '@pinhole/protocol';
import type { HubLimits } from '../defaults.js';
import type { HubMetrics } from '../metrics.js';

export type TransportName = 'ws' | 'sse' | 'poll';

/** What a transport needs besides the core: the limits it enforces itself, the clock, the metrics. */
export interface TransportContext {
  readonly limits: HubLimits;
  readonly now: () => number;
  readonly metrics: HubMetrics;
}

/** What a client is told when its session ends by `overflow` (either bound, docs/protocol/hub.md §4.2). */
export const OVERFLOW_MESSAGE = 'the session overflowed (frames unacknowledged, or not read, past the bounds) and has ended; start a new one';

/** The loose `error` frame a downstream writes just before the hub closes it. */
export function closingError(code: ErrorCode, message = ''): string {
  return JSON.stringify(new ProtocolError(code, message).toFrame());
}

/**
 * Bounds what one connection holds in its write buffers. A client that stops reading
 * while the hub writes would otherwise grow them for as long as frames come: acks do not
 * bound them, since a client may ack frames it never read. Past `limit`, `onOverflow`
 * runs once, after the write under way (the caller ends the session).
 */
export class WriteBound {
  #over = false;

  constructor(
    private readonly limit: number,
    private readonly onOverflow: () => void,
  ) {}

  /** The bound was passed: later writes are dropped, and the connection is dropped rather than closed politely. */
  get over(): boolean {
    return this.#over;
  }

  /** Call after each write with the bytes now waiting for the client. */
  check(waiting: number): void {
    if (this.#over || waiting <= this.limit) return;
    this.#over = true;
    queueMicrotask(this.onOverflow);
  }
}

/**
 * Ends a response, and drops its socket if the client has not taken all of it within
 * `lingerMs`: a client that stopped reading must not keep the bytes (and the socket) of
 * an ended response for as long as it likes.
 */
export function endWithin(res: ServerResponse, lingerMs: number, body?: string): void {
  res.end(body);
  if (res.writableFinished) return;
  const timer = setTimeout(() => res.destroy(), lingerMs);
  timer.unref();
  res.once('close', () => clearTimeout(timer));
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
