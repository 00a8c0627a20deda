import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '@pinhole/protocol';
import type { HubCore, SessionHandle } from '../core.js';
import { closingError, type Downstream, type Encoded } from './transport.js';

class PollDownstream implements Downstream {
  readonly name = 'poll';
  #frames: string[] = [];
  #done = false;
  #scheduled = false;
  #timer: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    private readonly session: SessionHandle,
    holdMs: number,
    private readonly onDone: (conn: PollDownstream) => void,
    /** Answering waits for this (the frames a POST /v1/poll carried being applied). */
    private readonly ready?: Promise<void>,
  ) {
    this.#timer = setTimeout(() => this.flush(), holdMs);
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
    this.res.end(body);
    this.onDone(this);
  }

  /** The client went away before the answer: nothing is lost, the frames stay unacked. */
  abort(): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.onDone(this);
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
export class PollTransport {
  constructor(private readonly hub: HubCore) {}

  /** `onClose` runs once the request is over, answered or not. */
  open(res: ServerResponse, session: SessionHandle, ack: number, onClose: () => void, ready?: Promise<void>): void {
    const conn = new PollDownstream(
      res,
      session,
      this.hub.options.pollHoldMs,
      (done) => session.detach(done, this.hub.options.now()),
      ready,
    );
    res.on('close', () => {
      conn.abort();
      onClose();
    });
    session.attach(conn, ack);
  }
}
