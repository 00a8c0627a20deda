import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { ProtocolError, httpStatusOf, validateClientFrame } from '@pinhole/protocol';
import type { ConnectionTracker } from './connections.js';
import type { HubCore, SessionHandle } from './core.js';
import type { HubAccess, HubTestSwitches } from './defaults.js';
import { readBody, sendJson, sendProtocolError, seqParam } from './http-util.js';
import { RestApi } from './rest.js';
import { applyFrames, checkSingleSize, type FramesIn } from './transports/frames-in.js';
import { PollTransport } from './transports/poll.js';
import { SseTransport } from './transports/sse.js';
import type { TransportContext } from './transports/transport.js';
import { WsTransport } from './transports/ws.js';

/** A POST /v1/send body may batch frames, up to this many times `maxFrameBytes`. */
const BATCH_FACTOR = 8;
const ROOM_ROUTE = /^\/v1\/rooms\/([^/]+)\/(messages|peers)$/;
/** Paths that WHATWG URL parsing leaves as they are: no dot segments, escapes or empty segments. */
const PLAIN_PATH = /^(?:\/[\w-]+)+$/;

/** Path and query of a request target. */
export interface Target {
  path: string;
  /**
   * The path as sent, before dot segments are resolved. REST room names are read from it:
   * WHATWG parsing takes a `%2e%2e` segment for `..`, which would turn a bad room name
   * into another route.
   */
  rawPath: string;
  query: URLSearchParams;
}

/**
 * Splits a request target. A plain path (every hot route) skips the full WHATWG parse, which
 * costs more than the rest of routing; anything else gets it, so both give the same answer.
 */
export function parseTarget(raw = '/'): Target {
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  if (PLAIN_PATH.test(path) && !raw.includes('#', q)) return { path, rawPath: path, query: new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)) };
  const url = new URL(raw, 'http://hub');
  const hash = path.indexOf('#');
  return { path: url.pathname, rawPath: hash === -1 ? path : path.slice(0, hash), query: url.searchParams };
}

/** What the router needs besides the core; given at assembly (server.ts), never read off the core. */
export interface RouterContext extends TransportContext {
  readonly access: HubAccess;
  readonly switches: HubTestSwitches;
  readonly logger: Logger;
  readonly connections: ConnectionTracker;
}

/**
 * Routes the hub's HTTP surface. `request` and `upgrade` return false for paths that
 * are not the hub's, so a host server (the CLI, serving the web app) can take them.
 */
export class HubRouter<S extends SessionHandle> {
  readonly ws: WsTransport<S>;
  readonly sse: SseTransport<S>;
  readonly poll: PollTransport<S>;
  readonly rest: RestApi;
  readonly #started = Date.now();

  constructor(
    private readonly hub: HubCore<S>,
    private readonly ctx: RouterContext,
  ) {
    this.ws = new WsTransport(hub, ctx, (ip) => ctx.connections.close(ip, 'ws'));
    this.sse = new SseTransport(hub, ctx);
    this.poll = new PollTransport(hub, ctx);
    this.rest = new RestApi(hub, ctx.access, ctx.limits.maxFrameBytes, ctx.now);
  }

  clientIp(req: IncomingMessage): string {
    if (this.ctx.access.trustProxy) {
      const forwarded = req.headers['x-forwarded-for'];
      const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
      if (first) return first;
    }
    return req.socket.remoteAddress ?? 'unknown';
  }

  /** CORS headers for an allowed origin; throws `origin-not-allowed` for others. */
  #cors(req: IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    if (origin === undefined) return {};
    const allowed = this.ctx.access.allowedOrigins;
    if (allowed.length > 0 && !allowed.includes(origin)) throw new ProtocolError('origin-not-allowed', `origin ${origin} is not allowed`);
    return { 'access-control-allow-origin': origin, 'access-control-expose-headers': 'pinhole-last-id', vary: 'Origin' };
  }

  /** A transport error (a reset, a write the socket refused) ends one connection, never the process. */
  readonly #ignore = (err: Error): void => this.ctx.logger.debug({ err: err.message }, 'connection error');

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (parseTarget(req.url).path !== '/v1/ws') return false;
    // Node removes its own listener from an upgraded socket: until `ws` adds one (or for a refusal), this is it.
    socket.on('error', this.#ignore);
    const refuse = (err: ProtocolError): void => {
      const body = JSON.stringify(err.toFrame());
      socket.end(`HTTP/1.1 ${httpStatusOf(err.code)} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    try {
      if (this.ctx.switches.refuseWebSocket) throw new ProtocolError('forbidden', 'WebSocket upgrades are refused here (test switch); use SSE or long-poll');
      this.#cors(req);
      const ip = this.clientIp(req);
      if (!this.ctx.connections.open(ip, 'ws')) throw new ProtocolError('too-many-connections', `more than ${this.ctx.limits.maxConnectionsPerIp} connections from ${ip}`);
      this.ws.upgrade(req, socket, head, ip);
    } catch (err) {
      refuse(err instanceof ProtocolError ? err : new ProtocolError('internal', 'upgrade failed'));
    }
    return true;
  }

  request(req: IncomingMessage, res: ServerResponse): boolean {
    const url = parseTarget(req.url);
    const path = url.path;
    res.on('error', this.#ignore);
    if (path === '/healthz') {
      const { ok, ...health } = this.hub.health();
      sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : 'degraded', ...health, uptime: Math.round((Date.now() - this.#started) / 1000) });
      return true;
    }
    if (path === '/metrics') {
      void this.ctx.metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': this.ctx.metrics.registry.contentType });
        res.end(text);
      });
      return true;
    }
    if (!path.startsWith('/v1/')) return false;
    this.#v1(req, res, url).catch((err: unknown) => {
      if (!(err instanceof ProtocolError)) this.ctx.logger.error({ err, path }, 'request failed');
      else this.ctx.metrics.error(err.code);
      sendProtocolError(res, err);
    });
    return true;
  }

  async #v1(req: IncomingMessage, res: ServerResponse, url: Target): Promise<void> {
    const cors = this.#cors(req);
    for (const name in cors) res.setHeader(name, cors[name]!);
    const path = url.path;
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': 'content-type, authorization, last-event-id',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    // The route as sent first, so `/v1/rooms/%2e%2e/peers` names the room `..` (refused);
    // then as resolved, so `/v1/./rooms/x/peers` still reaches room `x`.
    const room = ROOM_ROUTE.exec(url.rawPath) ?? (url.rawPath === path ? null : ROOM_ROUTE.exec(path));
    if (room) {
      let name: string;
      try {
        name = decodeURIComponent(room[1]!);
      } catch {
        throw new ProtocolError('bad-frame', 'room name is not valid percent-encoding');
      }
      if (room[2] === 'peers' && method === 'GET') return this.rest.peers(req, res, name);
      if (room[2] === 'messages' && method === 'POST') return this.rest.message(req, res, name);
    }
    if (path === '/v1/send' && method === 'POST') return this.#send(req, res, url);
    if (path === '/v1/sse' && method === 'GET') return this.#stream(req, res, url, 'sse');
    if (path === '/v1/poll' && method === 'GET') return this.#stream(req, res, url, 'poll');
    if (path === '/v1/poll' && method === 'POST') return this.#pollWithFrames(req, res, url);
    throw new ProtocolError('not-found', `no route ${method} ${path}`);
  }

  #stream(req: IncomingMessage, res: ServerResponse, url: Target, transport: 'sse' | 'poll'): void | Promise<void> {
    const q = url.query;
    let found: S | Promise<S>;
    try {
      found = this.hub.authenticate(q.get('session'), q.get('key'));
    } catch (err) {
      return this.#overflowed(res, transport, err);
    }
    // The memory core answers at once: keep its path synchronous (one poll per batch of frames).
    if (!(found instanceof Promise)) return this.#open(req, res, url, transport, found);
    return found.then(
      (session) => {
        if (!req.socket.destroyed) this.#open(req, res, url, transport, session); // else the client left meanwhile
      },
      (err: unknown) => this.#overflowed(res, transport, err),
    );
  }

  /**
   * A poll or stream naming a session that ended by overflow is told so the way a live
   * one would have been (§2.2, §2.3): an answer or stream ending with a loose `overflow`
   * error. Any other error is thrown on, to become an HTTP error.
   */
  #overflowed(res: ServerResponse, transport: 'sse' | 'poll', err: unknown): void {
    if (!(err instanceof ProtocolError) || err.code !== 'overflow') throw err;
    this.ctx.metrics.error('overflow');
    const text = JSON.stringify(err.toFrame());
    if (transport === 'poll') sendJson(res, 200, `[${text}]`);
    else this.sse.told(res, text);
  }

  #open(req: IncomingMessage, res: ServerResponse, url: Target, transport: 'sse' | 'poll', session: S): void {
    const { from, release } = this.#admit(req, url, transport, session);
    if (transport === 'sse') this.sse.open(req, res, session, from, release);
    else this.poll.open(res, session, from, release);
  }

  /**
   * Checks a stream's starting point and takes a connection slot of its client address;
   * `release` gives the slot back (once, however often it is called).
   */
  #admit(req: IncomingMessage, url: Target, transport: 'sse' | 'poll', session: S): { from: number; release: () => void } {
    const q = url.query;
    const lastEventId = req.headers['last-event-id'];
    // An EventSource reconnects to the same URL with a newer Last-Event-ID: take the larger.
    const from =
      transport === 'sse'
        ? Math.max(seqParam(q.get('lastSeq'), 'lastSeq') ?? 0, seqParam(typeof lastEventId === 'string' ? lastEventId : null, 'Last-Event-ID') ?? 0)
        : (seqParam(q.get('ack'), 'ack') ?? 0);
    if (from > session.seq) throw new ProtocolError('bad-frame', `${transport === 'sse' ? 'lastSeq' : 'ack'} ${from} is ahead of the session (seq ${session.seq})`);
    const ip = this.clientIp(req);
    if (!this.ctx.connections.open(ip, transport)) throw new ProtocolError('too-many-connections', `more than ${this.ctx.limits.maxConnectionsPerIp} connections from ${ip}`);
    let held = true;
    const release = (): void => {
      if (held) this.ctx.connections.close(ip, transport);
      held = false;
    };
    return { from, release };
  }

  /** Reads and parses a body of frames: one frame, or an array of them. */
  async #readFrames(req: IncomingMessage): Promise<FramesIn> {
    const body = await readBody(req, this.ctx.limits.maxFrameBytes * BATCH_FACTOR);
    try {
      return { value: JSON.parse(body), bytes: Buffer.byteLength(body) };
    } catch (err) {
      throw new ProtocolError('bad-json', `body is not valid JSON: ${(err as Error).message}`);
    }
  }

  async #session(url: Target): Promise<S> {
    const found = this.hub.authenticate(url.query.get('session'), url.query.get('key'));
    return found instanceof Promise ? await found : found; // no extra tick for the memory core
  }

  /** `POST /v1/send`: a hello (no session yet), or frames of a session. */
  async #send(req: IncomingMessage, res: ServerResponse, url: Target): Promise<void> {
    const max = this.ctx.limits.maxFrameBytes;
    const body = await this.#readFrames(req);
    if (url.query.get('session') === null) {
      const frame = validateClientFrame(body.value);
      if (frame.type !== 'hello') throw new ProtocolError('hello-required', 'without ?session=…&key=…, the body must be a hello frame', frame.id, frame.type);
      if (body.bytes > max) throw new ProtocolError('too-large', `frame exceeds the limit of ${max} bytes`, frame.id, 'hello');
      const { session, resumed } = await this.hub.hello(frame);
      sendJson(res, 200, this.hub.welcome(session, resumed, frame.id));
      return;
    }
    const session = await this.#session(url);
    checkSingleSize(max, body);
    applyFrames(this.hub, max, session, body);
    await this.hub.settled(session);
    sendJson(res, 200, { ok: true, lastId: session.lastId, seq: session.seq });
  }

  /**
   * `POST /v1/poll`: a poll that carries frames, applied as `POST /v1/send` would apply them.
   * The poll attaches first and answers only once they are applied, so what they cause for
   * this session (a `joined`, an error, a `pong`) is in this answer. Nothing is applied if
   * the poll itself is refused.
   */
  async #pollWithFrames(req: IncomingMessage, res: ServerResponse, url: Target): Promise<void> {
    const body = await this.#readFrames(req);
    let session: S;
    try {
      session = await this.#session(url);
    } catch (err) {
      return this.#overflowed(res, 'poll', err);
    }
    const max = this.ctx.limits.maxFrameBytes;
    checkSingleSize(max, body);
    const { from, release } = this.#admit(req, url, 'poll', session);
    let settle!: (done: Promise<void>) => void;
    const applied = new Promise<void>((resolve) => (settle = resolve));
    this.poll.open(res, session, from, release, applied);
    applyFrames(this.hub, max, session, body);
    settle(this.hub.settled(session));
  }

  heartbeat(): void {
    this.ws.heartbeat();
    this.sse.heartbeat();
  }

  close(): void {
    this.ws.close();
    this.sse.close();
  }
}
