import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '@pinhole/protocol';
import type { HubCore, SessionHandle } from '../core.js';
import { closingError, endWithin, type Downstream, type Encoded, type TransportContext } from './transport.js';

class PollDownstream<S extends SessionHandle> implements Downstream {
  readonly name = 'poll';
  #frames: string[] = [];
  #done = false;
  #scheduled = false;
  #timer: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    private readonly session: S,
    private readonly transport: PollTransport<S>,
    /** Answering waits for this (the frames a POST /v1/poll carried being applied). */
    private readonly ready?: Promise<void>,
  ) {
    this.#timer = setTimeout(() => this.flush(), transport.ctx.limits.pollHoldMs);
  }

  write(frames: readonly Encoded[]): void {
    for (const frame of frames) this.#frames.push(frame.text);
    this.#schedule();
  }

  writeLoose(text: string): void {
    this.#frames.push(text);
    this.#schedule();
  }

  close(code?: ErrorCode, message?: string): void {
    if (code) this.#frames.push(closingError(code, message));
    this.flush();
  }

  /** Answers with what has been collected (frames arriving in the same tick go together). */
  flush(): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    const body = `[${this.#frames.join(',')}]`;
    // CORS headers, if any, were set on `res` by the router.
    this.res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(body),
      // Lets a client trim the frames it retains without waiting for a POST /v1/send reply.
      'pinhole-last-id': this.session.lastId,
    });
    const { limits, now } = this.transport.ctx;
    endWithin(this.res, limits.heartbeatMs, body);
    this.session.detach(this, now());
    this.transport.answered(this.session, this.res);
  }

  /** The client went away before the answer: nothing is lost, the frames stay unacked. */
  abort(): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.session.detach(this, this.transport.ctx.now());
  }

  #schedule(): void {
    if (this.#scheduled || this.#done) return;
    this.#scheduled = true;
    if (this.ready) void this.ready.then(() => setImmediate(() => this.flush()));
    else setImmediate(() => this.flush());
  }
}

/**
 * `GET /v1/poll?session&key&ack` (or `POST`, carrying frames): answers at once with frames
 * after `ack`, or holds until one arrives (at most `pollHoldMs`). `ack` acknowledges
 * cumulatively; the `pinhole-last-id` header reports the session's `lastId`.
 */
export class PollTransport<S extends SessionHandle> {
  /**
   * Per session, the answers its client has not taken yet: its poll connections' write
   * buffers, bounded together (a client may leave each answer unread and poll again on
   * a new connection).
   */
  readonly #unread = new Map<string, Set<ServerResponse>>();

  constructor(
    private readonly hub: HubCore<S>,
    readonly ctx: TransportContext,
  ) {}

  /** `onClose` runs once the request is over, answered or not. */
  open(res: ServerResponse, session: S, ack: number, onClose: () => void, ready?: Promise<void>): void {
    const conn = new PollDownstream(res, session, this, ready);
    res.on('close', () => {
      conn.abort();
      onClose();
    });
    session.attach(conn, ack);
  }

  /** An answer went out: past the bound, its session ends (`overflow`) and its unread answers are dropped. */
  answered(session: S, res: ServerResponse): void {
    if (res.writableFinished) return;
    let unread = this.#unread.get(session.id);
    if (!unread) this.#unread.set(session.id, (unread = new Set()));
    const mine = unread;
    mine.add(res);
    res.once('close', () => {
      mine.delete(res);
      if (mine.size === 0 && this.#unread.get(session.id) === mine) this.#unread.delete(session.id);
    });
    let waiting = 0;
    for (const r of mine) waiting += r.writableLength;
    if (waiting <= this.ctx.limits.maxWriteBufferBytes) return;
    for (const r of mine) r.destroy();
    this.hub.overflow(session);
  }
}
