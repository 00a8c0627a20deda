/**
 * A load balancer without stickiness: every HTTP request and every WebSocket upgrade goes
 * to the next node in turn, whatever the client or connection. If a session works through
 * it, no node holds anything a session needs. Requests to a dead node fail as they would
 * behind a real balancer without health checks (502, or a reset upgrade).
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

export class RoundRobinProxy {
  /** Requests (and upgrades) sent to each target, by target URL. */
  readonly counts = new Map<string, number>();
  #next = 0;
  readonly #sockets = new Set<Duplex>();

  private constructor(
    private readonly server: Server,
    private readonly targets: string[],
  ) {
    for (const t of targets) this.counts.set(t, 0);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  static async start(targets: string[]): Promise<RoundRobinProxy> {
    const server = createServer();
    const proxy = new RoundRobinProxy(server, targets);
    server.on('request', (req, res) => {
      const target = new URL(proxy.#pick());
      const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent: false }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
      res.on('close', () => upstream.destroy());
      req.pipe(upstream);
    });
    server.on('upgrade', (req: IncomingMessage, client: Duplex, head: Buffer) => {
      const target = new URL(proxy.#pick());
      const upstream = connect(Number(target.port), target.hostname, () => {
        const lines = [`${req.method} ${req.url} HTTP/1.1`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
        upstream.write(head);
        upstream.pipe(client).pipe(upstream);
      });
      proxy.#track(client);
      proxy.#track(upstream);
      const end = (): void => {
        client.destroy();
        upstream.destroy();
      };
      upstream.on('error', end).on('close', end);
      client.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  #pick(): string {
    const target = this.targets[this.#next++ % this.targets.length]!;
    this.counts.set(target, this.counts.get(target)! + 1);
    return target;
  }

  #track(socket: Duplex): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }
}
