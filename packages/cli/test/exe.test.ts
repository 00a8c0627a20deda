/**
 * The single executable (`npm run build:exe`): built from this checkout, copied alone into an
 * empty folder and run with a PATH that has no `node` and a HOME of its own, so nothing can
 * come from this repository's node_modules. `serve` answers a WebSocket client and serves the
 * web app, which joins a call in Chromium; `agent` and `connect`, both from the executable,
 * forward a TCP port over WebRTC (node-datachannel's native addon, out of the executable).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, connect as tcpConnect, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '@pinhole/test-kit/browser';
import { freeUdpTcpPorts, hello } from '@pinhole/test-kit/cli';
import { until } from '@pinhole/test-kit/wait';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

let dir: string;
let exe: string;
let env: NodeJS.ProcessEnv;
const children: ChildProcess[] = [];

interface Running {
  child: ChildProcess;
  readonly out: string;
}

/** Starts `pinhole-linux-x64 <argv>` from the empty folder; stdout and stderr together in `out`. */
function start(argv: string[]): Running {
  const child = spawn(exe, argv, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return {
    child,
    get out() {
      return out;
    },
  };
}

function stop(r: Running): Promise<number | null> {
  if (r.child.exitCode !== null) return Promise.resolve(r.child.exitCode);
  return new Promise((resolve) => {
    r.child.once('exit', (code) => resolve(code));
    r.child.kill('SIGINT');
  });
}

beforeAll(() => {
  execFileSync(process.execPath, [join(root, 'scripts/build-exe.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  dir = mkdtempSync(join(tmpdir(), 'pinhole-exe-'));
  const emptyPath = join(dir, 'bin');
  mkdirSync(emptyPath);
  exe = join(dir, `pinhole-${process.platform}-${process.arch}`);
  copyFileSync(join(root, 'dist', `pinhole-${process.platform}-${process.arch}`), exe);
  env = { PATH: emptyPath, HOME: dir, LANG: 'C.UTF-8' };
}, 300_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the single executable, alone in an empty folder with no node on PATH', () => {
  it('has no node to lean on, and prints its version', () => {
    expect(spawnSync('/bin/sh', ['-c', 'command -v node'], { env }).status).not.toBe(0);
    const version = spawnSync(exe, ['--version'], { cwd: dir, env, encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    console.info(`executable: ${(statSync(exe).size / 2 ** 20).toFixed(1)} MiB`);
  });

  let echo: Server | undefined;
  afterAll(() => echo?.close());

  it('serve: a WebSocket client gets welcome with TURN, the web app joins a call in Chromium; agent + connect forward a port', async () => {
    const [turnPort] = await freeUdpTcpPorts(1);
    const serve = start(['serve', '--host', '127.0.0.1', '--port', '0', '--turn-port', String(turnPort), '--data-dir', join(dir, 'data')]);
    await until(() => /https:\/\/127\.0\.0\.1:\d+\//.test(serve.out), 30_000, `serve to listen:\n${serve.out}`);
    const url = /(https:\/\/127\.0\.0\.1:\d+)\//.exec(serve.out)![1]!;
    expect(serve.out).not.toMatch(/Warning|Error/);

    const ca = join(dir, 'data', 'cert.pem');
    const welcome = await hello(`${url.replace('https', 'wss')}/v1/ws`, readFileSync(ca, 'utf8'));
    expect(JSON.stringify(welcome.iceServers)).toContain(`turn:127.0.0.1:${turnPort}?transport=udp`);

    const browser = await launchChromium(['--ignore-certificate-errors']);
    try {
      const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
      page.setDefaultTimeout(60_000);
      await page.goto(`${url}/r/exe-room`);
      await page.fill('#name', 'Exe');
      await page.waitForFunction(() => (document.querySelector('.preview video') as HTMLVideoElement | null)?.srcObject != null);
      await page.click('.join-form button[type=submit]');
      await page.waitForSelector('.call-header .transport[data-transport=ws]');
    } finally {
      await browser.close();
    }

    echo = createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    await new Promise<void>((r) => echo!.listen(0, '127.0.0.1', r));
    const echoPort = (echo.address() as AddressInfo).port;
    const agent = start(['agent', '--hub', url, '--room', 'exe-agent', '--name', 'box', '--expose', `echo=127.0.0.1:${echoPort}`, '--ca', ca]);
    await until(() => agent.out.includes('joined; serving'), 30_000, `the agent to join:\n${agent.out}`);
    const connect = start(['connect', '--hub', url, '--room', 'exe-agent', '--forward', '0', '--ca', ca]);
    await until(() => /forwarding 127\.0\.0\.1:\d+/.test(connect.out), 30_000, `connect to listen:\n${connect.out}`);
    const port = Number(/forwarding 127\.0\.0\.1:(\d+)/.exec(connect.out)![1]);
    const data = randomBytes(1024 * 1024);
    const got = await new Promise<Buffer>((resolve, reject) => {
      const s = tcpConnect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => s.end(data));
      const parts: Buffer[] = [];
      s.on('data', (c: Buffer) => parts.push(c));
      s.on('end', () => resolve(Buffer.concat(parts)));
      s.on('error', reject);
    });
    expect(sha(got)).toBe(sha(data));

    expect(await stop(connect)).toBe(0);
    expect(await stop(agent)).toBe(0);
    expect(await stop(serve)).toBe(0);
  }, 240_000);
});
