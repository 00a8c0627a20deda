/** Free loopback ports (bound, read, released: good enough for a test server) and waiting for a listener. */
import { createSocket } from 'node:dgram';
import { createServer, connect, type AddressInfo } from 'node:net';

/** A free TCP port on loopback. */

export async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A free UDP port on 127.0.0.1 (bound and released; good enough for a test peer). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/**
 * Resolves once something accepts TCP connections on 127.0.0.1:`port`. Throws at once when
 * `isDead` gives a reason (the server exited), or after `timeoutMs` with `detail()` (e.g. the
 * server's output so far) in the message.
 */
export async function waitForTcp(
  port: number,
  timeoutMs = 10_000,
  isDead: () => string | undefined = () => undefined,
  detail: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return;
    const dead = isDead();
    if (dead !== undefined) throw new Error(dead);
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms ${detail()}`.trimEnd());
    await new Promise((r) => setTimeout(r, 30));
  }
}
