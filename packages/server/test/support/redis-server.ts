/**
 * A real redis-server for one test file: a free loopback port, no persistence, and a
 * restart on the same port (the "Redis restarts" tests). Stopped by `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`. */
export async function waitForPort(port: number, timeoutMs = 10_000, why = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms ${why()}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

export class TestRedis {
  #proc: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<TestRedis> {
    const redis = new TestRedis(await freePort());
    await redis.restart();
    return redis;
  }

  /** (Re)starts redis-server on the same port, empty. */
  async restart(): Promise<void> {
    if (this.#proc) throw new Error('redis-server is already running');
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const spawnFailed = new Promise<never>((_, reject) => proc.once('error', (err) => reject(new Error(`redis-server: ${err.message} (apt-get install redis-server)`))));
    this.#proc = proc;
    const orphan = (): void => void proc.kill('SIGKILL');
    process.once('exit', orphan);
    proc.once('exit', () => process.off('exit', orphan));
    await Promise.race([waitForPort(this.port, 10_000, () => stderr), spawnFailed]);
  }

  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  }
}
