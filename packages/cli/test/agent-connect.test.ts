/**
 * `pinhole agent` and `pinhole connect` in-process against a real hub: a forwarded TCP port
 * carries data both ways (SHA-256), connect without --forward prints the agent's
 * announcement, the agent retries an unreachable hub with backoff, and bad flags exit 2.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, connect as tcpConnect, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '@pinhole/server';
import { runCli } from '../src/index.js';
import { startTestHub } from '@pinhole/test-kit/hub';
import { until } from '@pinhole/test-kit/wait';
import { capture, run, tempDirs } from '@pinhole/test-kit/cli';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
let hub: RunningHub;
let echo: Server;
let echoPort: number;
const dirs = tempDirs();

/** Runs a long-lived command in-process; `stop()` aborts it and resolves with its exit code. */
function start(argv: string[], env: Record<string, string> = {}) {
  const abort = new AbortController();
  const stdout = capture();
  const stderr = capture();
  const done = runCli(argv, { stdout, stderr, env, signal: abort.signal, handleSignals: false });
  return { stdout, stderr, done, stop: () => (abort.abort(), done) };
}

beforeAll(async () => {
  hub = await startTestHub();
  echo = createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as AddressInfo).port;
});

afterAll(async () => {
  await hub.close();
  await new Promise((r) => echo.close(r));
  dirs.cleanup();
});

describe('pinhole agent + pinhole connect', () => {
  it('forwards a local port to the exposed one; connect without --forward checks info + echo and prints the pair', async () => {
    const share = dirs.make();
    const agent = start(['agent', '--hub', hub.url, '--room', 'cli-agent', '--name', 'box', '--expose', `echo=127.0.0.1:${echoPort}`, '--share', share]);
    await until(() => agent.stdout.text.includes('joined; serving'), 20_000, 'the agent to join');
    const log = agent.stdout.text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; transport?: string });
    expect(log.find((l) => l.msg === 'signaling connected')?.transport).toBe('ws');

    const info = await run(['connect', '--hub', hub.url, '--room', 'cli-agent']);
    expect(info.code).toBe(0);
    const announced = JSON.parse(info.stdout.trim().split('\n').at(-1)!) as object;
    expect(announced).toMatchObject({ name: 'box', services: ['echo', 'files', 'forward'], targets: ['echo'], echo: true, local: 'host', signaling: 'hub/ws' });

    const client = start(['connect', '--hub', hub.url, '--room', 'cli-agent', '--forward', '0']);
    await until(() => /forwarding 127\.0\.0\.1:\d+/.test(client.stderr.text), 30_000, 'connect to listen');
    const port = Number(/forwarding 127\.0\.0\.1:(\d+) → box\/echo/.exec(client.stderr.text)![1]);
    const data = randomBytes(2 * 1024 * 1024);
    const got = await new Promise<Buffer>((resolve, reject) => {
      const s = tcpConnect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => s.end(data));
      const parts: Buffer[] = [];
      s.on('data', (c: Buffer) => parts.push(c));
      s.on('end', () => resolve(Buffer.concat(parts)));
      s.on('error', reject);
    });
    expect(sha(got)).toBe(sha(data));
    // Both sides logged the rung: the agent the candidate pair, connect the same.
    await until(() => agent.stdout.text.includes('"msg":"peer connected"'), 10_000, 'the agent to log the pair');
    const pair = JSON.parse(agent.stdout.text.split('\n').find((l) => l.includes('"msg":"peer connected"'))!) as { local: string; remote: string; signaling: string };
    expect(pair).toMatchObject({ local: 'host', signaling: 'hub/ws' });
    expect(['host', 'prflx']).toContain(pair.remote);
    expect(client.stdout.text).toContain('"msg":"agent connected"');
    expect(await client.stop()).toBe(0);
    expect(await agent.stop()).toBe(0);
  });

  it('an agent whose hub is down retries with backoff until stopped', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise((r) => dead.close(r));
    const agent = start(['agent', '--hub', url, '--room', 'r']);
    await until(() => (agent.stdout.text.match(/hub unreachable; retrying/g) ?? []).length >= 2, 20_000, 'two retries');
    expect(await agent.stop()).toBe(0);
  });

  it.each([
    { argv: ['agent', '--room', 'r'], message: /--hub is required/ },
    { argv: ['agent', '--hub', 'http://h', '--room', 'r', '--expose', 'ssh=host'], message: /not \[NAME=\]HOST:PORT/ },
    { argv: ['agent', '--hub', 'http://h', '--room', 'r', '--expose', '22', '--expose', '127.0.0.1:22'], message: /same name/ },
    { argv: ['agent', '--hub', 'http://h', '--room', 'r', '--share', '/nonexistent/dir'], message: /not a directory/ },
    { argv: ['agent', '--hub', 'ftp://h', '--room', 'r'], message: /not an http\(s\) URL/ },
    { argv: ['connect', '--hub', 'http://h'], message: /--room is required/ },
    { argv: ['connect', '--hub', 'http://h', '--room', 'r', '--forward', '2222:a:b'], message: /not LOCALPORT\[:NAME\]/ },
    { argv: ['connect', '--hub', 'http://h', '--room', 'r', '--wait', 'soon'], message: /not a duration/ },
  ])('$argv.0 $argv.1 …: exit 2, one line', async ({ argv, message }) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('connect to a target the agent does not expose: exit 2 naming what it has', async () => {
    const agent = start(['agent', '--hub', hub.url, '--room', 'cli-agent-2', '--expose', `echo=127.0.0.1:${echoPort}`]);
    await until(() => agent.stdout.text.includes('joined; serving'), 20_000, 'the agent to join');
    const r = await run(['connect', '--hub', hub.url, '--room', 'cli-agent-2', '--forward', '0:ssh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exposes no target 'ssh' \(it has echo\)/);
    expect(await agent.stop()).toBe(0);
  });
});
