/**
 * Issue 13, item 2, on real `pinhole serve` processes, memory core and `--redis` (a real
 * redis-server): one ~10 KB frame nested 5,000 deep, from a token with no permissions that
 * is in no room, used to exit a `--redis` node (stack overflow, uncaught). Every path gets
 * it; afterwards the process is alive, /healthz answers 200 and the session still works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerFrame, WelcomeFrame } from '@pinhole/protocol';
import { mintToken } from '../src/index.js';
import { HubProcess } from './support/hub-process.js';
import { TestRedis } from '@pinhole/test-kit/redis';

const SECRET = 'depth-secret-0123456789';
const DEEP = '['.repeat(5000) + ']'.repeat(5000);
/** Each path's frames carry their own ids: 1–3 over the WebSocket, 4–6 in a batch, 7–9 over POST. */
const deepFrames = (first: number): string[] => [
  `{"type":"signal","id":${first},"to":"someone","data":${DEEP}}`,
  `{"type":"broadcast","id":${first + 1},"room":"r","data":${DEEP}}`,
  `{"type":"join","id":${first + 2},"room":"r","meta":{"m":${DEEP}}}`,
];

let redis: TestRedis;
beforeAll(async () => {
  redis = await TestRedis.start();
}, 30_000);
afterAll(async () => {
  await redis?.stop();
});

/** Waits for `ok`; fails at once, with its output, if the hub process has died. */
async function until(hub: HubProcess, what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (!hub.alive) throw new Error(`the hub process exited while waiting for ${what}:\n${hub.output.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each([
  { core: 'memory', redisUrl: (): string | undefined => undefined },
  { core: 'redis', redisUrl: (): string | undefined => redis.url },
])('$core core, real process', ({ redisUrl }) => {
  it('survives a 5,000-deep frame on every path (ws, ws batch, POST /v1/send, POST /v1/poll, REST); /healthz answers', async () => {
    const url = redisUrl();
    const hub = await HubProcess.start({ ...(url ? { redis: url, nodeId: 'deep-node' } : {}), args: ['--secret', SECRET] });
    const ws = new WebSocket(`${hub.url.replace(/^http/, 'ws')}/v1/ws`);
    try {
      const token = await mintToken(SECRET, { identity: 'nobody', perms: [] }, 60);
      const got: ServerFrame[] = [];
      ws.on('message', (data) => got.push(JSON.parse(String(data)) as ServerFrame));
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.send(JSON.stringify({ type: 'hello', token }));
      await until(hub, 'welcome', () => got.some((f) => f.type === 'welcome'));
      const { session, key } = got[0] as WelcomeFrame;
      const q = `session=${session}&key=${encodeURIComponent(key)}`;

      for (const text of deepFrames(1)) ws.send(text);
      ws.send(`[${deepFrames(4).join(',')}]`);
      await until(hub, 'six errors', () => got.filter((f) => f.type === 'error').length >= 6);
      for (const body of deepFrames(7)) expect((await fetch(`${hub.url}/v1/send?${q}`, { method: 'POST', body })).status).toBe(200);
      const rest = await fetch(`${hub.url}/v1/rooms/r/messages`, { method: 'POST', body: `{"data":${DEEP}}`, headers: { authorization: `Bearer ${SECRET}` } });
      expect(rest.status).toBe(400);
      expect(await rest.json()).toMatchObject({ code: 'bad-frame' });

      ws.send('{"type":"ping","id":10}');
      await until(hub, 'pong', () => got.some((f) => f.type === 'pong'));
      await until(hub, 'nine errors', () => got.filter((f) => f.type === 'error').length >= 9);
      const errors = got.filter((f) => f.type === 'error') as { code: string; ref: number; seq: number }[];
      expect(errors.map((e) => [e.code, e.ref])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((ref) => ['bad-frame', ref]));
      expect(errors.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect((got.find((f) => f.type === 'pong') as { lastId: number }).lastId).toBe(10);

      // A poll carrying frames takes the session over from the WebSocket: it goes last.
      const poll = await fetch(`${hub.url}/v1/poll?${q}&ack=9`, { method: 'POST', body: `[${deepFrames(11).join(',')}]` });
      expect(poll.status).toBe(200);
      const answer = (await poll.json()) as { code?: string; ref?: number }[];
      expect(answer.filter((f) => f.code === 'bad-frame').map((f) => f.ref)).toEqual([11, 12, 13]);
      expect(poll.headers.get('pinhole-last-id')).toBe('13');

      expect(hub.alive).toBe(true);
      const health = await fetch(`${hub.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok' });
    } finally {
      ws.terminate();
      await hub.stop();
    }
  }, 60_000);
});
