/**
 * A real redis-server for one test file: a free loopback port, no persistence, and a
 * restart on the same port (the "Redis restarts" tests). Stopped by `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freeTcpPort, waitForTcp } from './ports.js';

export class TestRedis {
  #proc: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<TestRedis> {
    const redis = new TestRedis(await freeTcpPort());
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
    const exited = (): string | undefined => (proc.exitCode !== null ? `redis-server exited: ${stderr}` : undefined);
    await Promise.race([waitForTcp(this.port, 10_000, exited, () => stderr), spawnFailed]);
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
