/**
 * scripts/test.sh installs missing system packages with apt-get; it must leave alone the
 * servers of whoever runs it. The script runs in its own PID and mount namespace (so
 * nothing it could do reaches processes outside the test), with a tmpfs over /usr/sbin
 * (so squid, mosquitto and nft look missing and Debian's policy-rc.d is absent), next to
 * a real redis-server standing for someone else's server. apt-get is replaced by a script
 * that records what the real one's maintainer scripts would be told by policy-rc.d;
 * npm by one that stops test.sh right after the install step.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
let dir: string | undefined;

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function script(path: string, body: string): void {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

it('installs missing packages without starting their services and without stopping servers already running', async () => {
  dir = mkdtempSync(join(tmpdir(), 'pinhole-test-sh-'));
  const stubs = join(dir, 'bin');
  const log = join(dir, 'apt.log');
  await promisify(execFile)('mkdir', [stubs]);
  // invoke-rc.d asks policy-rc.d before starting a service; 101 means "forbidden".
  script(join(stubs, 'apt-get'), `echo "apt-get $*" >>${log}\n/usr/sbin/policy-rc.d redis-server start; echo "policy-rc.d: $?" >>${log}`);
  script(join(stubs, 'npm'), 'exit 3');

  const inNamespace = `
    redis-server --port 0 --unixsocket ${dir}/redis.sock --save '' >/dev/null &
    until redis-cli -s ${dir}/redis.sock ping >/dev/null 2>&1; do sleep 0.1; done
    mount -t tmpfs tmpfs /usr/sbin
    PATH=${stubs}:$PATH PINHOLE_CHROMIUM=/usr/bin/chromium bash scripts/test.sh; echo "test.sh exit $?"
    sleep 1 # time for a signalled redis-server to be gone; no wait for one left alone
    [ "$(redis-cli -s ${dir}/redis.sock ping 2>/dev/null)" = PONG ] && echo "other redis-server alive"
    [ -e /usr/sbin/policy-rc.d ] && echo "policy-rc.d left behind"
    true`;
  const { stdout } = await promisify(execFile)('unshare', ['--pid', '--fork', '--mount-proc', 'bash', '-c', inNamespace], { cwd: root });

  expect(stdout).toContain('installing squid mosquitto nftables (apt-get)');
  expect(stdout).toContain('test.sh exit 3'); // stopped by the npm stub, after the install step
  expect(stdout).toContain('other redis-server alive');
  expect(stdout).not.toContain('policy-rc.d left behind');
  const apt = readFileSync(log, 'utf8');
  expect(apt).toContain('apt-get install -y -qq --no-install-recommends squid mosquitto nftables');
  expect(apt).toContain('policy-rc.d: 101');
});
