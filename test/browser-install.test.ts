/**
 * A browser app installs the SDK (issue 17 §3): the packed tarballs of @pinhole/client and
 * @pinhole/protocol go into a scratch Vite app, as an npm user would install them. The
 * lockfile must hold no native or Node-only package, the production build must not warn
 * about a Node built-in, and the SDK's share of the bundle is reported gzipped — next to
 * livekit-client built the same way, the comparison — and must stay below it. Needs the npm
 * registry (vite, @noble/hashes, livekit-client) and `npm run build` first, as `npm test` does.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const VITE = JSON.parse(readFileSync(join(root, 'apps/web/package.json'), 'utf8')).devDependencies.vite as string;
const LIVEKIT = '2.23.0';
/** Packages that must never reach a browser app: native addons and Node-only clients. */
const NODE_ONLY = ['node-datachannel', 'ioredis', 'mqtt', 'undici', 'ws', 'https-proxy-agent', 'proxy-from-env', 'bufferutil', 'utf-8-validate', 'werift'];

interface Built {
  /** Gzipped bytes of the app's JavaScript. */
  gzip: number;
  warnings: string;
}

/** `npm install` in `dir` then `vite build` of an app whose main.js is `main`. */
async function buildApp(dir: string, deps: string[], main: string): Promise<Built> {
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/main.js"></script>');
  writeFileSync(join(dir, 'main.js'), main);
  await run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', `vite@${VITE}`, ...deps], { cwd: dir, maxBuffer: 16 << 20 });
  const { stdout, stderr } = await run('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: dir, maxBuffer: 16 << 20 });
  const assets = join(dir, 'dist/assets');
  const gzip = readdirSync(assets)
    .filter((f) => f.endsWith('.js'))
    .reduce((n, f) => n + gzipSync(readFileSync(join(assets, f)), { level: 9 }).length, 0);
  return { gzip, warnings: stdout + stderr };
}

describe('installing @pinhole/client into a Vite app', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'pinhole-browser-install-'));
    dirs.push(d);
    return d;
  };
  let app: string;
  let pinhole: Built;
  let empty: Built;

  beforeAll(async () => {
    const packs = tmp();
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', packs, '--workspace', 'packages/protocol', '--workspace', 'packages/client'], { cwd: root, maxBuffer: 16 << 20 });
    const tarballs = (JSON.parse(stdout) as { filename: string }[]).map((p) => join(packs, p.filename));
    app = tmp();
    // Everything a call needs: a session, a room, peers' media and data channels.
    pinhole = await buildApp(app, tarballs, "import { connect } from '@pinhole/client';\nconst s = await connect(location.origin);\nconst room = await s.join('r');\nroom.on('peer', (p) => console.log(p));\n");
    empty = await buildApp(tmp(), [], "console.log('hello');\n");
  }, 240_000);
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('installs no native or Node-only package', () => {
    type Locked = { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; hasInstallScript?: boolean };
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, Locked> };
    // What installing the SDK brought: @pinhole/client's dependency closure in the lockfile.
    const closure = new Set<string>();
    const visit = (name: string): void => {
      if (closure.has(name)) return;
      const entry = lock.packages[`node_modules/${name}`];
      expect(entry, `${name} is in the lockfile`).toBeDefined();
      closure.add(name);
      for (const dep of Object.keys({ ...entry!.dependencies, ...entry!.optionalDependencies })) visit(dep);
    };
    visit('@pinhole/client');
    expect([...closure].sort()).toEqual(['@noble/hashes', '@pinhole/client', '@pinhole/protocol']);
    expect([...closure].filter((n) => NODE_ONLY.includes(n) || lock.packages[`node_modules/${n}`]!.hasInstallScript)).toEqual([]);
    // And nothing Node-only got in by another way.
    expect(Object.keys(lock.packages).filter((p) => NODE_ONLY.includes(p.replace(/^.*node_modules\//, '')))).toEqual([]);
  });

  it('builds without a warning about Node built-ins, and is smaller than livekit-client built the same way', async () => {
    expect(pinhole.warnings).not.toMatch(/externalized for browser compatibility|node:|has been externalized/i);
    const livekit = await buildApp(tmp(), [`livekit-client@${LIVEKIT}`], "import { Room } from 'livekit-client';\nconst room = new Room();\nawait room.connect(location.origin, 'token');\nroom.on('participantConnected', (p) => console.log(p));\n");
    const ours = pinhole.gzip - empty.gzip;
    const theirs = livekit.gzip - empty.gzip;
    console.info(`SDK in a Vite production bundle, gzipped: @pinhole/client ${(ours / 1024).toFixed(1)} KiB, livekit-client ${LIVEKIT} ${(theirs / 1024).toFixed(1)} KiB (${(ours / theirs).toFixed(2)}×)`);
    expect(ours).toBeGreaterThan(5_000); // the SDK really is in there
    expect(ours).toBeLessThan(theirs);
  }, 240_000);
});
