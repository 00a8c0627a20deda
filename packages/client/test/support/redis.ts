/** A real redis-server for tests on a free loopback port, no persistence. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freeTcpPort, waitForTcp } from './ports.js';

export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

export class RedisServer {
  private constructor(
    /** `redis://127.0.0.1:PORT` */
    readonly url: string,
    readonly port: number,
    private readonly proc: ChildProcess,
  ) {}

  static async start(): Promise<RedisServer> {
    if (!REDIS_SERVER) throw new Error('redis-server is not installed (apt-get install redis-server); scripts/test.sh installs it');
    const port = await freeTcpPort();
    const proc = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      await waitForTcp(port, 10_000, () => (proc.exitCode !== null ? `redis-server exited: ${stderr}` : undefined));
    } catch (err) {
      proc.kill('SIGKILL');
      throw err;
    }
    return new RedisServer(`redis://127.0.0.1:${port}`, port, proc);
  }

  async stop(): Promise<void> {
    this.proc.kill('SIGTERM');
    await new Promise((r) => (this.proc.exitCode !== null ? r(undefined) : this.proc.once('exit', r)));
  }
}
