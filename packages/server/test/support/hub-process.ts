/**
 * Hubs as real child processes of `pinhole serve --no-tls [--redis …]`, for tests that
 * need a process boundary (SIGKILL, a crash, the process's memory). The CLI is bundled
 * once from source (@pinhole/test-kit/cli-bundle), so no `npm run build` is needed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleCli } from '@pinhole/test-kit/cli-bundle';
import { freeTcpPort, waitForTcp } from '@pinhole/test-kit/ports';

export interface HubProcessOptions {
  /** Absent: the memory core (one process). */
  redis?: string;
  nodeId?: string;
  /** Extra `pinhole serve` arguments. */
  args?: string[];
}

export class HubProcess {
  #output = '';
  #exited: Promise<void>;
  readonly #dataDir: string;

  private constructor(
    readonly nodeId: string | undefined,
    readonly port: number,
    private readonly proc: ChildProcess,
    dataDir: string,
  ) {
    this.#dataDir = dataDir;
    const collect = (c: Buffer): void => void (this.#output += c.toString());
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect);
    this.#exited = new Promise((resolve) => proc.once('exit', () => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Still running (not exited, not killed). */
  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** stdout (JSON logs) and stderr (banner) so far. */
  get output(): string {
    return this.#output;
  }

  static async start(options: HubProcessOptions): Promise<HubProcess> {
    const [bundle, port] = await Promise.all([bundleCli(), freeTcpPort()]);
    const dataDir = mkdtempSync(join(tmpdir(), 'pinhole-node-'));
    const args = ['serve', '--no-tls', '--host', '127.0.0.1', '--port', String(port), '--turn-port', '0', '--data-dir', dataDir, '--rate', '0', '--log-level', 'warn', ...(options.args ?? [])];
    if (options.redis !== undefined) args.push('--redis', options.redis);
    if (options.nodeId !== undefined) args.push('--node-id', options.nodeId);
    const proc = spawn(process.execPath, [bundle, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: dataDir } });
    const hub = new HubProcess(options.nodeId, port, proc, dataDir);
    // A test run that ends without its afterAll (a crash, a timeout) must not leave nodes behind.
    const orphan = (): void => void proc.kill('SIGKILL');
    process.once('exit', orphan);
    proc.once('exit', () => process.off('exit', orphan));
    try {
      await waitForTcp(port, 30_000, () => (proc.exitCode !== null ? `hub exited ${proc.exitCode}: ${hub.output}` : undefined), () => hub.output);
    } catch (err) {
      await hub.kill();
      throw err;
    }
    return hub;
  }

  /** SIGKILL: no goodbye to Redis, connections reset. */
  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.#exited;
    rmSync(this.#dataDir, { recursive: true, force: true });
  }

  /** SIGTERM: a graceful shutdown. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    const forced = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await this.#exited;
    clearTimeout(forced);
    rmSync(this.#dataDir, { recursive: true, force: true });
  }
}
