/**
 * Clients that stop reading what the hub sends them, as a client behind a stalled network
 * does, or one that means harm: their frames still reach the hub (POSTs, WebSocket sends),
 * but the hub's bytes pile up in the kernel's buffers and then in the hub's own.
 */
import { get, type IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { ClientFrame, ServerFrame, WelcomeFrame } from '@pinhole/protocol';

/** The reply of `POST /v1/send?session…` (or the HTTP error body). */
interface SendReply {
  ok?: boolean;
  lastId?: number;
  seq?: number;
  code?: string;
}

/** A stream or poll request whose answer is never read (destroy `res` to let it go). */
export interface Unread {
  res: IncomingMessage;
}

/** A session over HTTP (hello by POST) whose SSE streams and poll answers are never read. */
export class HttpSession {
  #id = 0;

  private constructor(
    readonly base: string,
    readonly welcome: WelcomeFrame,
  ) {}

  static async open(base: string): Promise<HttpSession> {
    const res = await fetch(`${base}/v1/send`, { method: 'POST', body: '{"type":"hello"}' });
    return new HttpSession(base, (await res.json()) as WelcomeFrame);
  }

  get query(): string {
    return `session=${encodeURIComponent(this.welcome.session)}&key=${encodeURIComponent(this.welcome.key)}`;
  }

  get peer(): string {
    return this.welcome.peer;
  }

  /** POSTs frames (numbered here); returns the hub's reply. */
  async send(...frames: ClientFrame[]): Promise<SendReply> {
    const body = frames.map((f) => (f.type === 'ack' ? f : { ...f, id: ++this.#id }));
    const res = await fetch(`${this.base}/v1/send?${this.query}`, { method: 'POST', body: JSON.stringify(body) });
    return (await res.json()) as SendReply;
  }

  /** Opens `GET /v1/sse` (or `/v1/poll`) and never reads the answer's body. */
  unread(path: 'sse' | 'poll', extra = ''): Promise<Unread> {
    return new Promise((resolve, reject) => {
      const req = get(`${this.base}/v1/${path}?${this.query}${extra}`, { agent: false }, (res) => resolve({ res }));
      req.on('error', reject);
    });
  }
}

/**
 * A WebSocket session that reads up to its `joined` and then no more (`ws.pause()`: the
 * socket is not read), while it can still send.
 */
export class PausedWs {
  private constructor(
    readonly ws: WebSocket,
    readonly welcome: WelcomeFrame,
  ) {}

  /** Opens a session and joins `room`, then stops reading. */
  static async open(base: string, room: string): Promise<PausedWs> {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/ws`);
    ws.on('error', () => undefined); // a reset is what the tests provoke
    const frames: ServerFrame[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => ws.send('{"type":"hello"}'));
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as ServerFrame;
        frames.push(frame);
        if (frame.type === 'welcome') ws.send(JSON.stringify({ type: 'join', room }));
        if (frame.type !== 'joined') return;
        ws.removeAllListeners('message');
        ws.pause();
        resolve();
      });
      ws.once('close', () => reject(new Error('closed before joining')));
    });
    return new PausedWs(ws, frames[0] as WelcomeFrame);
  }

  get peer(): string {
    return this.welcome.peer;
  }

  send(frame: ClientFrame): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }
}
