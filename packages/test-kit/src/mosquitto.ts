/**
 * A real Mosquitto broker for tests: an MQTT listener (TCP) and a WebSocket listener on
 * free loopback ports, anonymous access, its own config in a temporary directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort, waitForTcp } from './ports.js';

export const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));

export class Mosquitto {
  private constructor(
    /** `mqtt://127.0.0.1:PORT` */
    readonly url: string,
    /** `ws://127.0.0.1:PORT` (MQTT over WebSocket, for browsers) */
    readonly wsUrl: string,
    private readonly proc: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(): Promise<Mosquitto> {
    if (!MOSQUITTO) throw new Error('mosquitto is not installed (apt-get install mosquitto); scripts/test.sh installs it');
    const dir = mkdtempSync(join(tmpdir(), 'pinhole-mosquitto-'));
    const [tcp, ws] = [await freeTcpPort(), await freeTcpPort()];
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [
        'per_listener_settings false',
        'allow_anonymous true',
        'persistence false',
        'log_dest none',
        `listener ${tcp} 127.0.0.1`,
        'protocol mqtt',
        `listener ${ws} 127.0.0.1`,
        'protocol websockets',
        '',
      ].join('\n'),
    );
    const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      const dead = (): string | undefined => (proc.exitCode !== null ? `mosquitto exited: ${stderr}` : undefined);
      await waitForTcp(tcp, 10_000, dead);
      await waitForTcp(ws, 10_000, dead);
    } catch (err) {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return new Mosquitto(`mqtt://127.0.0.1:${tcp}`, `ws://127.0.0.1:${ws}`, proc, dir);
  }

  /**
   * Stops the broker; `signal: 'SIGKILL'` makes it vanish as an unreachable broker would,
   * without publishing its clients' last wills on the way out (as SIGTERM does).
   */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill(signal);
      await new Promise((r) => this.proc.once('exit', r));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
