/**
 * The built executable (`npm run build` first; `npm test` does): shebang, exit codes, and
 * SIGTERM handling, which in-process tests cannot exercise.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { get, tempDirs } from '@pinhole/test-kit/cli';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
/** What npm links as `pinhole`: in git, so a fresh clone's `npm ci` links it before the build. */
const LAUNCHER = fileURLToPath(new URL('../bin/pinhole.js', import.meta.url));
const SERVER_DIST = fileURLToPath(new URL('../../server/dist/index.js', import.meta.url));
const built = existsSync(BIN) && existsSync(SERVER_DIST);
const dirs = tempDirs();
afterEach(() => dirs.cleanup());
const env = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH ?? '', HOME: dirs.make(), ...extra });

describe('dist/bin.js (built)', () => {
  beforeAll(() => {
    if (!built) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  });

  it('runs as an executable: --version, token, and exit 2 on a bad flag', () => {
    const version = spawnSync(BIN, ['--version'], { encoding: 'utf8', env: env() });
    expect(version.status).toBe(0);
    expect(version.stdout).toBe('0.1.0\n');

    const token = spawnSync(BIN, ['token', '--identity', 'ann', '--ttl', '1h'], { encoding: 'utf8', env: env({ PINHOLE_SECRET: 's' }) });
    expect(token.status).toBe(0);
    expect(token.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);

    const bad = spawnSync(BIN, ['serve', '--port', 'abc'], { encoding: 'utf8', env: env() });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('pinhole: --port: "abc" is not a port number\n');
  });

  it('bin/pinhole.js runs the built CLI, and without dist/ says to build', () => {
    const version = spawnSync(LAUNCHER, ['--version'], { encoding: 'utf8', env: env() });
    expect(version.status).toBe(0);
    expect(version.stdout).toBe('0.1.0\n');

    const unbuilt = dirs.make();
    mkdirSync(join(unbuilt, 'bin'));
    copyFileSync(LAUNCHER, join(unbuilt, 'bin', 'pinhole.js'));
    const before = spawnSync(join(unbuilt, 'bin', 'pinhole.js'), ['token'], { encoding: 'utf8', env: env() });
    expect(before.status).toBe(1);
    expect(before.stderr).toBe('pinhole: not built yet: run `npm run build` (or `npm start`) at the root of the repository\n');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('serve stops gracefully on %s and exits 0', async (signal) => {
    const dataDir = dirs.make();
    const child = spawn(BIN, ['serve', '--host', '127.0.0.1', '--port', '0', '--turn-port', '0', '--data-dir', dataDir], { env: env() });
    let stderr = '';
    let stdout = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const port = await waitFor(() => /https:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr)?.[1]);
      const res = await get(`https://127.0.0.1:${port}/healthz`, { ca: await waitForFile(`${dataDir}/cert.pem`) });
      expect(res.status).toBe(200);
      child.kill(signal);
      expect(await exited).toBe(0);
      expect(stderr).toContain('shutting down');
      const msgs = stdout.trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg);
      expect(msgs).toEqual(expect.arrayContaining(['hub listening', 'stopped']));
    } finally {
      child.kill('SIGKILL');
    }
  });
});

async function waitFor<T>(probe: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function waitForFile(path: string): Promise<string> {
  return waitFor(() => (existsSync(path) ? readFileSync(path, 'utf8') : undefined));
}
