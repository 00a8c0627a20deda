/**
 * The HTTP rungs: `hello` by `POST /v1/send`, frames by POSTs sent one at a time, and hub
 * frames from an SSE stream (`/v1/sse`) or a long-poll loop (`/v1/poll`, whose requests
 * also carry the frames written while the previous answer was handled). SSE is read with
 * fetch rather than EventSource so that Node and browsers share the code and a stream that
 * a buffering proxy holds back is noticed (no bytes within the open timeout).
 */
import type { ClientFrame, HelloFrame, ServerFrame, WelcomeFrame } from '@pinhole/protocol';
import { POLL_SLACK_MS } from '../defaults.js';
import { LinkError, errorFromResponse, joinUrl, type Link, type LinkContext, type OpenLink, type TransportName } from './link.js';

async function postHello(ctx: LinkContext, hello: HelloFrame): Promise<WelcomeFrame> {
  let res: Response;
  try {
    res = await ctx.platform.fetch(joinUrl(ctx.base, '/v1/send'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(hello),
      signal: AbortSignal.timeout(ctx.openTimeoutMs),
    });
  } catch (err) {
    throw new LinkError(`POST /v1/send: ${(err as Error).message}`, (err as Error).name === 'TimeoutError' ? 'timeout' : 'network');
  }
  if (!res.ok) throw await errorFromResponse(res, 'hello refused');
  const welcome = (await res.json()) as ServerFrame;
  if (welcome.type !== 'welcome') throw new LinkError(`hello answered with ${welcome.type}`, 'bad-frame');
  return welcome;
}

/** Common part of both HTTP links: the POST queue (one request at a time, in order). */
abstract class HttpLink implements Link {
  abstract readonly transport: TransportName;
  protected closed = false;
  protected readonly abort = new AbortController();
  /** While set, frames only queue: the poll link is handing out an answer and will carry them. */
  protected holding = false;
  #queue: ClientFrame[] = [];
  #posting = false;
  #pumpQueued = false;

  constructor(
    protected readonly ctx: LinkContext,
    protected readonly query: { session: string; key: string },
  ) {}

  /**
   * Queues frames. The POST starts once the current task is done, so frames written
   * together (candidates gathered at once, replies to one batch) share a request.
   */
  send(frames: ClientFrame[]): void {
    this.#queue.push(...frames);
    if (this.#posting || this.holding || this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      if (!this.#posting) void this.#pump();
    });
  }

  /**
   * Takes the queued frames for a request of the subclass's own, if no POST is in flight
   * (frames of one session go in one request at a time, so they are applied in order).
   */
  protected takeQueued(): ClientFrame[] | undefined {
    if (this.#posting || this.#queue.length === 0) return undefined;
    const frames = this.#queue;
    this.#queue = [];
    return frames;
  }

  ack(seq: number): void {
    this.send([{ type: 'ack', seq }]);
  }

  ping(): void {
    this.send([{ type: 'ping' }]);
  }

  close(): void {
    this.closed = true;
    this.abort.abort();
  }

  protected fail(error: LinkError): void {
    if (this.closed) return;
    this.close();
    this.ctx.closed(this, error);
  }

  async #pump(): Promise<void> {
    this.#posting = true;
    while (this.#queue.length > 0 && !this.closed) {
      const batch = this.#queue;
      this.#queue = [];
      const ack = this.ctx.lastSeq();
      const body = batch.map((f) => (f.type === 'ack' ? { ...f, seq: Math.max(f.seq, ack) } : { ...f, ack }));
      try {
        const res = await this.ctx.platform.fetch(joinUrl(this.ctx.base, '/v1/send', this.query), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body.length === 1 ? body[0] : body),
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.ctx.openTimeoutMs * 2)]),
        });
        if (!res.ok) return this.fail(await errorFromResponse(res, 'POST /v1/send'));
        const reply = (await res.json()) as { lastId?: number };
        if (typeof reply.lastId === 'number') this.ctx.confirmed(reply.lastId);
      } catch (err) {
        // The frames stay retained by the hub connection and go again after the resume.
        return this.fail(new LinkError(`POST /v1/send: ${(err as Error).message}`, 'network'));
      }
    }
    this.#posting = false;
  }
}

class SseLink extends HttpLink {
  readonly transport = 'sse';

  /** Resolves once the stream's first bytes (the hub's padding) arrive. */
  async open(): Promise<void> {
    const url = joinUrl(this.ctx.base, '/v1/sse', { ...this.query, lastSeq: this.ctx.lastSeq() });
    // The timeout covers the head and the first bytes only: the stream itself lives on.
    const attempt = new AbortController();
    const timer = setTimeout(
      () => attempt.abort(new LinkError(`SSE stream sent nothing within ${this.ctx.openTimeoutMs} ms (a buffering proxy?)`, 'timeout')),
      this.ctx.openTimeoutMs,
    );
    try {
      const res = await this.ctx.platform.fetch(url, {
        headers: { accept: 'text/event-stream' },
        signal: AbortSignal.any([this.abort.signal, attempt.signal]),
      });
      if (!res.ok || !res.body) throw await errorFromResponse(res, 'GET /v1/sse');
      const reader = res.body.getReader();
      const first = await reader.read();
      void this.#read(reader, first);
    } catch (err) {
      this.close();
      if (attempt.signal.aborted) throw attempt.signal.reason as LinkError;
      throw err instanceof LinkError ? err : new LinkError(`GET /v1/sse: ${(err as Error).message}`, 'network');
    } finally {
      clearTimeout(timer);
    }
  }

  async #read(reader: ReadableStreamDefaultReader<Uint8Array>, first: ReadableStreamReadResult<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    let chunk = first;
    try {
      for (;;) {
        if (chunk.done) break;
        this.ctx.alive(this);
        buffer += decoder.decode(chunk.value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const line of event.split('\n')) {
            if (line.startsWith('data: ') && !this.closed) this.ctx.frame(JSON.parse(line.slice(6)) as ServerFrame, this);
          }
        }
        if (this.closed) return;
        chunk = await reader.read();
      }
      this.fail(new LinkError('SSE stream ended', 'closed'));
    } catch (err) {
      this.fail(new LinkError(`SSE stream: ${(err as Error).message}`, 'network'));
    }
  }
}

class PollLink extends HttpLink {
  readonly transport = 'poll';

  constructor(
    ctx: LinkContext,
    query: { session: string; key: string },
    private readonly holdMs: number,
  ) {
    super(ctx, query);
  }

  start(): void {
    void this.#loop();
  }

  /** Every poll carries `?ack=lastSeq`: a separate POST would only repeat it. */
  override ack(): void {}

  /**
   * Frames written while an answer is handed out (a reply to what it brought) ride on the
   * next poll, a `POST /v1/poll`, instead of a POST /v1/send of their own — unless a POST
   * /v1/send is under way (takeQueued): then they follow it, in order.
   */
  async #loop(): Promise<void> {
    while (!this.closed) {
      const url = joinUrl(this.ctx.base, '/v1/poll', { ...this.query, ack: this.ctx.lastSeq() });
      const carried = this.takeQueued();
      const what = carried ? 'POST /v1/poll' : 'GET /v1/poll';
      let frames: ServerFrame[] | ServerFrame;
      try {
        const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.holdMs + POLL_SLACK_MS)]);
        const res = await this.ctx.platform.fetch(
          url,
          carried
            ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(carried.length === 1 ? carried[0] : carried), signal }
            : { signal },
        );
        if (!res.ok) return this.fail(await errorFromResponse(res, what));
        const lastId = Number(res.headers.get('pinhole-last-id') ?? Number.NaN);
        if (Number.isSafeInteger(lastId)) this.ctx.confirmed(lastId);
        frames = (await res.json()) as ServerFrame[] | ServerFrame;
      } catch (err) {
        // Carried frames stay retained by the hub connection and go again after the resume.
        return this.fail(new LinkError(`${what}: ${(err as Error).message}`, 'network'));
      }
      if (this.closed) return;
      this.ctx.alive(this);
      this.holding = true;
      try {
        for (const frame of Array.isArray(frames) ? frames : [frames]) {
          this.ctx.frame(frame, this);
          if (frame.type === 'error' && frame.seq === undefined && (frame.code === 'replaced' || frame.code === 'overflow')) {
            return this.fail(new LinkError(`poll ended: ${frame.code}`, frame.code));
          }
        }
      } finally {
        this.holding = false;
      }
    }
  }
}

export const openSseLink: OpenLink = async (ctx, hello) => {
  const welcome = await postHello(ctx, hello);
  const link = new SseLink(ctx, { session: welcome.session, key: welcome.key });
  await link.open();
  return { link, welcome };
};

export const openPollLink: OpenLink = async (ctx, hello) => {
  const welcome = await postHello(ctx, hello);
  const link = new PollLink(ctx, { session: welcome.session, key: welcome.key }, welcome.limits.pollHoldMs);
  link.start();
  return { link, welcome };
};
