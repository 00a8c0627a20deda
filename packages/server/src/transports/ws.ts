import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { ProtocolError, decodeClientFrame, type ClientFrame, type ErrorCode } from '@pinhole/protocol';
import type { HubCore, SessionHandle } from '../core.js';
import { applyFrames } from './frames-in.js';
import { WriteBound, closingError, corkForTick, type Downstream, type Encoded, type TransportContext } from './transport.js';

/** Frames up to this many times `maxFrameBytes` get a `too-large` error; beyond, ws closes with 1009. */
const HARD_CAP_FACTOR = 4;

/** Close codes sent when the hub ends a connection on purpose (4000 + HTTP-like status). */
const CLOSE_CODES: Partial<Record<ErrorCode, number>> = { replaced: 4409, overflow: 4429 };

class WsDownstream<S extends SessionHandle> implements Downstream {
  readonly name = 'ws';
  session: S | undefined;
  alive = true;
  /** Frames that arrived while the hello was being checked. */
  early: ClientFrame[] | undefined;
  /** The hello asked for `batch`: the frames of one tick go as one message, a JSON array. */
  batch = false;
  #pending: string[] | undefined;

  constructor(
    readonly ws: WebSocket,
    private readonly socket: Socket,
    private readonly bound: WriteBound,
  ) {}

  write(frames: readonly Encoded[]): void {
    if (this.bound.over) return;
    if (!this.batch) {
      corkForTick(this.socket);
      for (const frame of frames) this.ws.send(frame.text);
      this.bound.check(this.ws.bufferedAmount);
      return;
    }
    if (this.#pending) {
      for (const frame of frames) this.#pending.push(frame.text);
      return;
    }
    this.#pending = frames.map((frame) => frame.text);
    process.nextTick(() => this.#flush());
  }

  #flush(): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (!pending || pending.length === 0 || this.ws.readyState !== this.ws.OPEN || this.bound.over) return;
    this.ws.send(pending.length === 1 ? pending[0]! : `[${pending.join(',')}]`);
    this.bound.check(this.ws.bufferedAmount);
  }

  writeLoose(text: string): void {
    this.#flush();
    if (this.bound.over) return;
    this.ws.send(text);
    this.bound.check(this.ws.bufferedAmount);
  }

  close(code?: ErrorCode, message?: string): void {
    // Its client is not reading: a close frame would not reach it, so do not keep its bytes.
    if (this.bound.over) {
      this.ws.terminate();
      return;
    }
    this.#flush();
    if (code) this.writeLoose(closingError(code, message));
    this.ws.close(code ? (CLOSE_CODES[code] ?? 4000) : 1000, code ?? 'session ended');
  }
}

/** `GET /v1/ws`: one WebSocket per connection, frames as JSON text messages. */
export class WsTransport<S extends SessionHandle> {
  readonly #wss: WebSocketServer;
  readonly #open = new Set<WsDownstream<S>>();

  constructor(
    private readonly hub: HubCore<S>,
    private readonly ctx: TransportContext,
    private readonly onClose: (ip: string) => void,
  ) {
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: ctx.limits.maxFrameBytes * HARD_CAP_FACTOR,
      perMessageDeflate: false,
      clientTracking: false,
    });
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ip: string): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connection(ws, socket as Socket, ip));
  }

  #connection(ws: WebSocket, socket: Socket, ip: string): void {
    // Past the bound: the session ends (`overflow`); before the welcome there is none, only the connection.
    const bound = new WriteBound(this.ctx.limits.maxWriteBufferBytes, () => (conn.session ? this.hub.overflow(conn.session) : ws.terminate()));
    const conn = new WsDownstream<S>(ws, socket, bound);
    this.#open.add(conn);
    ws.on('message', (data, isBinary) => {
      conn.alive = true;
      this.#message(conn, data, isBinary);
    });
    ws.on('pong', () => (conn.alive = true));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      this.#open.delete(conn);
      this.onClose(ip);
      conn.session?.detach(conn, this.ctx.now());
    });
  }

  #message(conn: WsDownstream<S>, data: RawData, isBinary: boolean): void {
    let frame: ClientFrame;
    try {
      if (isBinary) throw new ProtocolError('bad-frame', 'binary messages are not part of the protocol; send JSON text');
      const buf = data as Buffer;
      if (buf[0] === 0x5b) return this.#batch(conn, buf); // '[': an array of frames
      frame = decodeClientFrame(buf.toString(), this.ctx.limits.maxFrameBytes, buf.length);
    } catch (err) {
      this.#reject(conn, err as ProtocolError);
      return;
    }
    if (conn.session) {
      if (frame.type === 'hello') this.#reject(conn, new ProtocolError('already-welcomed', 'this connection already has a session', frame.id, 'hello'));
      else this.hub.receive(conn.session, frame);
    } else if (conn.early) {
      conn.early.push(frame);
    } else if (frame.type === 'hello') {
      conn.early = [];
      this.hub.hello(frame).then(
        ({ session, resumed }) => {
          const early = conn.early ?? [];
          conn.early = undefined;
          if (conn.ws.readyState !== conn.ws.OPEN) return;
          conn.session = session;
          conn.batch = frame.batch === true;
          conn.writeLoose(JSON.stringify(this.hub.welcome(session, resumed, frame.id)));
          session.attach(conn, resumed ? frame.resume!.lastSeq : 0);
          for (const f of early) this.hub.receive(session, f);
        },
        (err: unknown) => {
          const early = conn.early ?? [];
          conn.early = undefined;
          this.#reject(conn, err instanceof ProtocolError ? err : new ProtocolError('internal', 'hello failed', frame.id, 'hello'));
          for (const f of early) this.#reject(conn, new ProtocolError('hello-required', 'send a successful hello first', f.id, f.type));
        },
      );
    } else {
      this.#reject(conn, new ProtocolError('hello-required', 'the first frame must be a hello', frame.id, frame.type));
    }
  }

  /** A message holding an array of frames, applied in order like a POST /v1/send body. */
  #batch(conn: WsDownstream<S>, buf: Buffer): void {
    if (!conn.session) throw new ProtocolError('hello-required', 'an array of frames is accepted once the welcome has come; send the hello alone');
    let value: unknown;
    try {
      value = JSON.parse(buf.toString());
    } catch (err) {
      throw new ProtocolError('bad-json', `message is not valid JSON: ${(err as Error).message}`);
    }
    applyFrames(this.hub, this.ctx.limits.maxFrameBytes, conn.session, { value, bytes: buf.length });
  }

  /** Reports a bad frame: sequenced once the connection has a session, loose before. */
  #reject(conn: WsDownstream<S>, err: ProtocolError): void {
    if (conn.session) {
      this.hub.reject(conn.session, err);
      return;
    }
    this.ctx.metrics.error(err.code);
    conn.writeLoose(JSON.stringify(err.toFrame()));
  }

  /** Heartbeat: a connection that did not answer the previous ping is dropped. */
  heartbeat(): void {
    for (const conn of this.#open) {
      if (!conn.alive) {
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }

  close(): void {
    for (const conn of this.#open) conn.ws.terminate();
    this.#wss.close();
  }
}
