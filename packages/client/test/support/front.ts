/**
 * A misbehaving reverse proxy in front of a hub, for ladder tests: it forwards plain HTTP
 * requests and WebSocket upgrades, or breaks them the ways real middleboxes do. The mode
 * can change while clients are connected.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { createHash } from 'node:crypto';

export type FrontMode =
  | 'pass'
  /** WebSocket upgrades get 403 (like a proxy that does not allow them). */
  | 'refuse-ws'
  /** WebSocket upgrades get 101 and then nothing, ever. */
  | 'stall-ws'
  /** WebSocket upgrades and SSE streams get 502. */
  | 'ws-sse-502'
  /** SSE responses are held back until they end (a buffering proxy); also refuses WebSocket. */
  | 'buffer-sse';

export class Front {
  mode: FrontMode;
  readonly server: Server;
  readonly sockets = new Set<Socket>();
  counts = { ws: 0, sse: 0, poll: 0, send: 0 };

  constructor(readonly target: string, mode: FrontMode = 'pass') {
    this.mode = mode;
    this.server = createServer((req, res) => this.#http(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.#upgrade(req, socket, head));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }

  /** Cuts every connection through the front (as a network drop would). */
  cutAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  #http(req: IncomingMessage, res: import('node:http').ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/v1/sse') this.counts.sse++;
    if (path === '/v1/poll') this.counts.poll++;
    if (path === '/v1/send') this.counts.send++;
    if (path === '/v1/sse' && this.mode === 'ws-sse-502') {
      res.writeHead(502).end('bad gateway');
      return;
    }
    const url = new URL(req.url ?? '/', this.target);
    const upstream = request(url, { method: req.method, headers: req.headers }, (up) => {
      if (path === '/v1/sse' && this.mode === 'buffer-sse') {
        // Hold everything until the upstream ends, as some corporate proxies do.
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => res.writeHead(up.statusCode ?? 502, up.headers).end(Buffer.concat(chunks)));
        return;
      }
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    this.counts.ws++;
    if (this.mode === 'refuse-ws' || this.mode === 'buffer-sse') {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    if (this.mode === 'ws-sse-502') {
      socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    if (this.mode === 'stall-ws') {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ' + accept(req) + '\r\n\r\n');
      socket.on('error', () => undefined);
      return; // and never a byte more
    }
    const target = new URL(this.target);
    const up = connect(Number(target.port), target.hostname, () => {
      let head1 = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) head1 += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      up.write(head1 + '\r\n');
      if (head.length) up.write(head);
      up.pipe(socket).pipe(up);
    });
    this.sockets.add(up);
    up.on('close', () => {
      this.sockets.delete(up);
      socket.destroy();
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
    socket.on('close', () => up.destroy());
  }
}

function accept(req: IncomingMessage): string {
  return createHash('sha1')
    .update(String(req.headers['sec-websocket-key']) + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
    .digest('base64');
}
