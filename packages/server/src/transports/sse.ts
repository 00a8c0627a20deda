import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '@pinhole/protocol';
import type { HubCore, SessionHandle } from '../core.js';
import { WriteBound, closingError, corkForTick, endWithin, type Downstream, type Encoded, type TransportContext } from './transport.js';

/** EventSource reconnection delay suggested to browsers. */
const RETRY_MS = 1000;
const STREAM_HEAD = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store, no-transform',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
};

class SseDownstream implements Downstream {
  readonly name = 'sse';
  /** Set by `close`: nothing is written after it (the response may still be draining). */
  #ended = false;

  constructor(
    readonly res: ServerResponse,
    private readonly bound: WriteBound,
    /** How long an ended stream may take to drain before its socket is dropped. */
    private readonly lingerMs: number,
  ) {}

  get ended(): boolean {
    return this.#ended;
  }

  write(frames: readonly Encoded[]): void {
    if (this.#ended || this.bound.over) return;
    let chunk = '';
    let bytes = 0; // the frames' sizes are known, so the chunk is not scanned to measure it
    for (const frame of frames) {
      const head = `id: ${frame.seq}\ndata: `;
      chunk += `${head}${frame.text}\n\n`;
      bytes += head.length + frame.bytes + 2;
    }
    const socket = this.res.socket;
    // Past the head, the chunk goes to the socket with its chunked framing (RFC 9112
    // §7.1) in one write: ServerResponse would make it four (size, CRLF, data, CRLF),
    // which measured ~5 % of the hub's instructions per relayed signal. Same bytes.
    if (socket && this.res.headersSent && this.res.chunkedEncoding) {
      corkForTick(socket);
      socket.write(`${bytes.toString(16)}\r\n${chunk}\r\n`);
    } else {
      corkForTick(this.res);
      this.res.write(chunk);
    }
    this.bound.check(this.res.writableLength);
  }

  writeLoose(text: string): void {
    this.#comment(`data: ${text}\n\n`);
  }

  /** Comment lines keep proxies from timing the stream out and reveal dead sockets. */
  heartbeat(): void {
    this.#comment(': hb\n\n');
  }

  close(code?: ErrorCode, message?: string): void {
    if (this.#ended) return;
    // Its client is not reading: nothing more would reach it, so do not keep its bytes.
    if (this.bound.over) {
      this.#ended = true;
      this.res.destroy();
      return;
    }
    if (code) this.writeLoose(closingError(code, message));
    this.#ended = true;
    endWithin(this.res, this.lingerMs);
  }

  #comment(text: string): void {
    if (this.#ended || this.bound.over) return;
    this.res.write(text);
    this.bound.check(this.res.writableLength);
  }
}

/**
 * `GET /v1/sse?session&key[&lastSeq]`: hub→client frames as server-sent events, `id` =
 * seq, so a browser EventSource resumes by itself through `Last-Event-ID`.
 * Client frames go through `POST /v1/send`.
 */
export class SseTransport<S extends SessionHandle> {
  readonly #open = new Set<SseDownstream>();

  constructor(
    private readonly hub: HubCore<S>,
    private readonly ctx: TransportContext,
  ) {}

  /** `onClose` runs once the stream is over. CORS headers, if any, were set on `res` by the router. */
  open(req: IncomingMessage, res: ServerResponse, session: S, lastSeq: number, onClose: () => void): void {
    const o = this.ctx.limits;
    const conn = new SseDownstream(res, new WriteBound(o.maxWriteBufferBytes, () => this.hub.overflow(session)), o.heartbeatMs);
    this.#open.add(conn);
    req.socket.setKeepAlive(true, o.heartbeatMs);
    req.socket.setNoDelay(true);
    res.writeHead(200, STREAM_HEAD);
    // A first comment makes buffering proxies pass the response head through at once.
    res.write(`retry: ${RETRY_MS}\n: ${' '.repeat(2048)}\n\n`);
    res.on('close', () => {
      this.#open.delete(conn);
      session.detach(conn, this.ctx.now());
      onClose();
    });
    session.attach(conn, lastSeq);
  }

  /** A stream that only tells its client a loose frame (an `error`) and ends. */
  told(res: ServerResponse, text: string): void {
    res.writeHead(200, STREAM_HEAD);
    endWithin(res, this.ctx.limits.heartbeatMs, `data: ${text}\n\n`);
  }

  /** A stream that has ended stays in `#open` until its socket closes, but gets no heartbeat. */
  heartbeat(): void {
    for (const conn of this.#open) conn.heartbeat();
  }

  close(): void {
    for (const conn of this.#open) conn.close();
  }
}
