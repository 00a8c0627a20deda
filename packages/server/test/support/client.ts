/**
 * A small but complete protocol client for the hub's tests: WebSocket, SSE+POST and
 * long-poll+POST; numbers its frames 1, 2, 3…, keeps them until the hub reports
 * `lastId`, acknowledges what it receives, drops duplicates by `seq`, and resumes.
 */
import WebSocket from 'ws';
import type { ClientFrame, ServerFrame, WelcomeFrame } from '@pinhole/protocol';

export type TransportName = 'ws' | 'sse' | 'poll';
type Outgoing = ClientFrame & { id: number };

export interface ClientOptions {
  transport?: TransportName;
  token?: string;
  /** Ack explicitly after this many unacked frames (also piggy-backed on every send). */
  ackEvery?: number;
}

interface Link {
  send(frames: Outgoing[]): void;
  close(): void;
}

export class TestClient {
  transport: TransportName;
  welcome: WelcomeFrame | undefined;
  /** Every hub frame received, deduplicated and in order (plus loose ones: errors before welcome, pong). */
  readonly received: ServerFrame[] = [];
  /** Sequenced frames that arrived out of order: must stay empty. */
  readonly gaps: string[] = [];
  lastSeq = 0;
  duplicatesDropped = 0;
  #acked = 0;
  #nextId = 1;
  #retained: Outgoing[] = [];
  #link: Link | undefined;
  #waiters = new Set<() => void>();
  #closed = false;

  constructor(
    /** Hub base URL; `resume` may move the session to another node of a cluster. */
    public base: string,
    readonly options: ClientOptions = {},
  ) {
    this.transport = options.transport ?? 'ws';
  }

  get peer(): string {
    return this.welcome!.peer;
  }

  /** Opens a new session. */
  async connect(): Promise<WelcomeFrame> {
    const hello: ClientFrame = { type: 'hello' };
    if (this.options.token) hello.token = this.options.token;
    return this.#open(hello);
  }

  /** Reconnects on `transport` (default: the same), at `base` (default: the same), and resumes the session. */
  async resume(transport: TransportName = this.transport, base = this.base): Promise<WelcomeFrame> {
    this.#link?.close();
    this.transport = transport;
    this.base = base;
    const w = this.welcome!;
    const hello: ClientFrame = { type: 'hello', resume: { session: w.session, key: w.key, lastSeq: this.lastSeq } };
    if (this.options.token) hello.token = this.options.token;
    return this.#open(hello);
  }

  /** Kills the connection abruptly (no bye): the session enters its grace period. */
  drop(): void {
    this.#link?.close();
    this.#link = undefined;
  }

  /** Sends a frame with the next integer id; it is retained until the hub confirms it. */
  send(frame: ClientFrame): number {
    const out = { ...frame, id: this.#nextId++ } as Outgoing;
    this.#retained.push(out);
    this.#link?.send([out]);
    return out.id;
  }

  /** Sends raw text on the WebSocket (bad-input tests). */
  raw(text: string | Buffer): void {
    (this.#link as WsLink).ws.send(text);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#link?.close();
  }

  /** Resolves with the first received frame (from index `from`) matching `pred`. */
  async next<T extends ServerFrame = ServerFrame>(pred: (f: ServerFrame) => boolean, timeoutMs = 5000, from = 0): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.slice(from).find(pred);
      if (found) return found as T;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a frame; got ${JSON.stringify(this.received.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.add(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits until `pred` holds (checked on each frame received, and every 20 ms). */
  async until(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  // ---------------------------------------------------------------- internals

  async #open(hello: ClientFrame): Promise<WelcomeFrame> {
    const welcome = this.transport === 'ws' ? await this.#openWs(hello) : await this.#openHttp(hello);
    this.welcome = welcome;
    this.#confirm(welcome.lastId);
    if (this.#retained.length > 0) this.#link!.send(this.#retained);
    return welcome;
  }

  /** Drops retained frames the hub has applied. */
  #confirm(lastId: number): void {
    if (this.#retained.length > 0 && this.#retained[0]!.id <= lastId) this.#retained = this.#retained.filter((f) => f.id > lastId);
  }

  #onFrame(frame: ServerFrame, link: Link): void {
    if (link !== this.#link && frame.type !== 'welcome') return;
    if ('seq' in frame && typeof frame.seq === 'number' && frame.type !== 'welcome') {
      if (frame.seq <= this.lastSeq) {
        this.duplicatesDropped++;
        return;
      }
      if (frame.seq !== this.lastSeq + 1) this.gaps.push(`expected ${this.lastSeq + 1}, got ${frame.seq}`);
      this.lastSeq = frame.seq;
      if (this.lastSeq - this.#acked >= (this.options.ackEvery ?? 16)) this.#ack();
    }
    if (frame.type === 'pong') this.#confirm(frame.lastId);
    this.received.push(frame);
    for (const w of this.#waiters) w();
    this.#waiters.clear();
  }

  #ack(): void {
    if (this.transport !== 'ws' || !this.#link) return; // poll acks in its query; sse via POST below
    this.#acked = this.lastSeq;
    (this.#link as WsLink).ws.send(JSON.stringify({ type: 'ack', seq: this.lastSeq }));
  }

  #openWs(hello: ClientFrame): Promise<WelcomeFrame> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this.base.replace(/^http/, 'ws')}/v1/ws`);
      const link: WsLink = {
        ws,
        send: (frames) => {
          if (ws.readyState !== ws.OPEN) return;
          for (const f of frames) {
            this.#acked = this.lastSeq;
            ws.send(JSON.stringify({ ...f, ack: this.lastSeq }));
          }
        },
        close: () => ws.terminate(),
      };
      let welcomed = false;
      ws.on('open', () => ws.send(JSON.stringify(hello)));
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as ServerFrame;
        if (!welcomed) {
          if (frame.type === 'welcome') {
            welcomed = true;
            this.#link = link;
            resolve(frame);
          } else if (frame.type === 'error') {
            this.received.push(frame);
            reject(Object.assign(new Error(frame.message), { code: frame.code }));
            ws.terminate();
          }
          return;
        }
        this.#onFrame(frame, link);
      });
      ws.on('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
      ws.on('error', (err) => {
        if (!welcomed) reject(err);
      });
    });
  }

  async #openHttp(hello: ClientFrame): Promise<WelcomeFrame> {
    const res = await fetch(`${this.base}/v1/send`, { method: 'POST', body: JSON.stringify(hello) });
    const body = (await res.json()) as ServerFrame;
    if (body.type !== 'welcome') throw Object.assign(new Error(`hello refused: ${JSON.stringify(body)}`), { code: (body as { code?: string }).code });
    const q = `session=${encodeURIComponent(body.session)}&key=${encodeURIComponent(body.key)}`;
    const link = this.transport === 'sse' ? this.#sseLink(q) : this.#pollLink(q);
    this.#link = link;
    return body;
  }

  /** POSTs frames one request at a time (batched), so they reach the hub in order. */
  #poster(q: string, alive: () => boolean): (frames: Outgoing[]) => void {
    let queue: Outgoing[] = [];
    let busy = false;
    const pump = async (): Promise<void> => {
      busy = true;
      while (queue.length > 0 && alive()) {
        const batch = queue;
        queue = [];
        try {
          const body = batch.map((f) => ({ ...f, ack: this.lastSeq }));
          const res = await fetch(`${this.base}/v1/send?${q}`, { method: 'POST', body: JSON.stringify(body) });
          const result = (await res.json()) as { lastId?: number };
          if (result.lastId !== undefined) this.#confirm(result.lastId);
        } catch {
          // Lost POST: the frames are still retained and go again on resume.
        }
      }
      busy = false;
    };
    return (frames) => {
      queue.push(...frames);
      if (!busy) void pump();
    };
  }

  #sseLink(q: string): Link {
    const controller = new AbortController();
    let alive = true;
    const link: Link = {
      send: this.#poster(q, () => alive),
      close: () => {
        alive = false;
        controller.abort();
      },
    };
    void (async () => {
      try {
        const res = await fetch(`${this.base}/v1/sse?${q}&lastSeq=${this.lastSeq}`, { signal: controller.signal });
        const decoder = new TextDecoder();
        let buffer = '';
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = event
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (data) this.#onFrame(JSON.parse(data) as ServerFrame, link);
          }
        }
      } catch {
        // aborted or dropped
      }
    })();
    // SSE acks ride on POSTs; send a bare ack when idle so the replay buffer drains.
    const acker = setInterval(() => {
      if (!alive) return clearInterval(acker);
      if (this.lastSeq > this.#acked && this.#link === link) {
        this.#acked = this.lastSeq;
        void fetch(`${this.base}/v1/send?${q}`, { method: 'POST', body: JSON.stringify({ type: 'ack', seq: this.lastSeq }) }).catch(() => undefined);
      }
    }, 50);
    return link;
  }

  #pollLink(q: string): Link {
    let alive = true;
    let controller = new AbortController();
    const link: Link = {
      send: this.#poster(q, () => alive),
      close: () => {
        alive = false;
        controller.abort();
      },
    };
    void (async () => {
      while (alive && !this.#closed) {
        try {
          controller = new AbortController();
          const res = await fetch(`${this.base}/v1/poll?${q}&ack=${this.lastSeq}`, { signal: controller.signal });
          const frames = (await res.json()) as ServerFrame[] | ServerFrame;
          if (!Array.isArray(frames)) break; // an error answer: the session is gone
          for (const f of frames) this.#onFrame(f, link);
        } catch {
          break;
        }
      }
    })();
    return link;
  }
}

interface WsLink extends Link {
  ws: WebSocket;
}
