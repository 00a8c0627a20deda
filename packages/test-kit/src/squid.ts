/**
 * A real squid as an HTTP CONNECT proxy on a free loopback port, with its own config,
 * logs and pid file in a temporary directory. `connects()` reads its access log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './ports.js';

export const SQUID = ['/usr/sbin/squid', '/usr/bin/squid'].find((p) => existsSync(p));

/**
 * A temporary directory with a squid.conf: `rules` (http_port, ACLs, http_access), then logs,
 * pid file and core dumps inside the directory, no cache, and no idle cut-off of held-open
 * long-polls and event streams. Shared with the namespace proxy (netns/squid.ts).
 */
export function writeSquidConfig(rules: string[], hostname: string): { dir: string; conf: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pinhole-squid-'));
  chmodSync(dir, 0o777); // squid drops privileges to its own user
  const conf = join(dir, 'squid.conf');
  writeFileSync(
    conf,
    [
      ...rules,
      `access_log stdio:${join(dir, 'access.log')}`,
      `cache_log ${join(dir, 'cache.log')}`,
      `pid_filename ${join(dir, 'squid.pid')}`,
      `coredump_dir ${dir}`,
      'cache deny all',
      'shutdown_lifetime 0 seconds',
      `visible_hostname ${hostname}`,
      'read_timeout 2 minutes',
      '',
    ].join('\n'),
  );
  return { dir, conf };
}

export class Squid {
  constructor(
    readonly url: string,
    private readonly proc: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(): Promise<Squid> {
    if (!SQUID) throw new Error('squid is not installed (apt-get install squid); scripts/test.sh installs it');
    const port = await freeTcpPort();
    const { dir, conf } = writeSquidConfig(
      [`http_port 127.0.0.1:${port}`, 'acl CONNECT method CONNECT', 'http_access allow localhost', 'http_access deny all'],
      'pinhole-test',
    );
    const proc = spawn(SQUID, ['-N', '-f', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      const up = await new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
      if (up) break;
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`squid did not start: ${stderr}${existsSync(join(dir, 'cache.log')) ? readFileSync(join(dir, 'cache.log'), 'utf8') : ''}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return new Squid(`http://127.0.0.1:${port}`, proc, dir);
  }

  /** CONNECT tunnels squid has logged (one line per tunnel, written when it closes). */
  log(): string {
    const file = join(this.dir, 'access.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  async stop(): Promise<void> {
    this.proc.kill('SIGKILL');
    await new Promise((r) => (this.proc.exitCode !== null ? r(undefined) : this.proc.once('exit', r)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
