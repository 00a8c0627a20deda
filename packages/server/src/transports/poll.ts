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
    holdMs: number,
    private readonly onDone: (conn: PollDownstream) => void,
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
    this.res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
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
    setImmediate(() => this.flush());
  }
}

/**
 * `GET /v1/poll?session&key&ack`: answers at once with frames after `ack`, or holds
 * until one arrives (at most `pollHoldMs`). `ack` acknowledges cumulatively.
 */
export class PollTransport {
  constructor(private readonly hub: HubCore) {}

  /** `onClose` runs once the request is over, answered or not. */
  open(res: ServerResponse, session: SessionHandle, ack: number, onClose: () => void): void {
    const conn = new PollDownstream(res, this.hub.options.pollHoldMs, (done) => {
      session.detach(done, this.hub.options.now());
    });
    res.on('close', () => {
      conn.abort();
      onClose();
    });
    session.attach(conn, ack);
  }
}
