import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ErrorFrame, WelcomeFrame } from '@pinhole/protocol';
import { mintToken, type RunningHub } from '../src/index.js';
import { TestClient } from './support/client.js';
import { testCores } from './support/hub.js';

const SECRET = 'test-secret-0123456789';

const cores = testCores();

describe.each(cores)('$name core', (core) => {
  let hub: RunningHub;
  const clients: TestClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await hub.close();
  });

  async function client(token?: string, transport: 'ws' | 'sse' | 'poll' = 'ws'): Promise<TestClient> {
    const c = new TestClient(hub.url, token === undefined ? { transport } : { token, transport });
    clients.push(c);
    return c;
  }

  describe('with a secret, joining needs a valid token', () => {
    it.each(['ws', 'sse', 'poll'] as const)('no token, a forged token and an expired one are refused over %s', async (transport) => {
      hub = await core.start({ secret: SECRET });
      await expect((await client(undefined, transport)).connect()).rejects.toMatchObject({ code: 'unauthorized' });
      const forged = await mintToken('another-secret', { identity: 'mallory' }, 60);
      await expect((await client(forged, transport)).connect()).rejects.toMatchObject({ code: 'unauthorized' });
      const expired = await mintToken(SECRET, { identity: 'late' }, 60, Date.now() - 3600_000);
      await expect((await client(expired, transport)).connect()).rejects.toMatchObject({ code: 'token-expired' });
      await expect((await client('not.a.jwt', transport)).connect()).rejects.toMatchObject({ code: 'unauthorized' });
    });

    it('a valid token connects; welcome carries its identity', async () => {
      hub = await core.start({ secret: SECRET });
      const c = await client(await mintToken(SECRET, { identity: 'alice' }, 60));
      const w = await c.connect();
      expect(w.identity).toBe('alice');
    });

    it('a token that expired during the session cannot resume without a fresh one', async () => {
      let now = Date.now();
      hub = await core.start({ secret: SECRET, now: () => now, graceMs: 3600_000 });
      const token = await mintToken(SECRET, { identity: 'bob' }, 60, now);
      const c = await client(token);
      await c.connect();
      c.drop();
      now += 120_000;
      await expect(c.resume()).rejects.toMatchObject({ code: 'token-expired' });
      (c.options as { token?: string }).token = await mintToken(SECRET, { identity: 'bob' }, 60, now);
      expect((await c.resume()).resumed).toBe(true);
    });

    it('an expired token cannot reattach SSE or poll without a fresh hello', async () => {
      let now = Date.now();
      hub = await core.start({ secret: SECRET, now: () => now, graceMs: 3600_000 });
      const c = await client(await mintToken(SECRET, { identity: 'pat' }, 60, now), 'poll');
      const w = await c.connect();
      c.drop();
      now += 120_000;
      for (const path of ['sse', 'poll']) {
        const res = await fetch(`${hub.url}/v1/${path}?session=${w.session}&key=${w.key}`);
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ code: 'token-expired' });
      }
    });

    it('room patterns and permissions are enforced', async () => {
      hub = await core.start({ secret: SECRET });
      const c = await client(await mintToken(SECRET, { identity: 'carol', room: 'team-*', perms: ['join'] }, 60));
      await c.connect();
      c.send({ type: 'join', room: 'other' });
      expect(await c.next<ErrorFrame>((f) => f.type === 'error')).toMatchObject({ code: 'forbidden' });
      c.send({ type: 'join', room: 'team-red' });
      await c.next((f) => f.type === 'joined' && f.room === 'team-red');
      c.send({ type: 'broadcast', room: 'team-red', data: 'x' });
      expect(await c.next<ErrorFrame>((f) => f.type === 'error' && f.frame === 'broadcast')).toMatchObject({ code: 'forbidden' });

      const observer = await client(await mintToken(SECRET, { identity: 'dave', perms: ['data'] }, 60));
      await observer.connect();
      observer.send({ type: 'join', room: 'team-red' });
      expect(await observer.next<ErrorFrame>((f) => f.type === 'error')).toMatchObject({ code: 'forbidden' });
    });
  });

  describe('cross-room isolation', () => {
    it('a peer cannot signal or broadcast into a room it is not in', async () => {
      hub = await core.start();
      const a = await client();
      const b = await client();
      const x = await client();
      for (const c of [a, b, x]) await c.connect();
      a.send({ type: 'join', room: 'one' });
      b.send({ type: 'join', room: 'one' });
      x.send({ type: 'join', room: 'two' });
      for (const c of [a, b, x]) await c.next((f) => f.type === 'joined');
      x.send({ type: 'signal', to: a.peer, data: 'intrude' });
      expect(await x.next<ErrorFrame>((f) => f.type === 'error')).toMatchObject({ code: 'unknown-peer' });
      x.send({ type: 'signal', to: a.peer, room: 'one', data: 'intrude' });
      expect(await x.next<ErrorFrame>((f, ) => f.type === 'error' && f.code === 'not-in-room')).toBeTruthy();
      x.send({ type: 'broadcast', room: 'one', data: 'intrude' });
      await x.next((f) => f.type === 'error' && f.frame === 'broadcast');
      b.send({ type: 'broadcast', room: 'one', data: 'inside' });
      await a.next((f) => f.type === 'broadcast');
      expect(a.received.some((f) => 'data' in f && f.data === 'intrude')).toBe(false);
      expect(x.received.some((f) => f.type === 'peer-joined' || f.type === 'broadcast')).toBe(false);
    });
  });

  describe('origin allow-list', () => {
    it('refuses other origins on the WebSocket upgrade and on HTTP; allows listed and origin-less clients', async () => {
      hub = await core.start({ allowedOrigins: ['https://app.example'] });
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/v1/ws`, { origin: 'https://evil.example' });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
      });
      expect(status).toBe(403);
      const res = await fetch(`${hub.url}/v1/send`, { method: 'POST', body: '{"type":"hello"}', headers: { origin: 'https://evil.example' } });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'origin-not-allowed' });
      const ok = await fetch(`${hub.url}/v1/send`, { method: 'POST', body: '{"type":"hello"}', headers: { origin: 'https://app.example' } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
      await (await client()).connect();
    });
  });

  describe('ICE servers in welcome', () => {
    it('hands out TURN REST API credentials: expiry:identity, base64(HMAC-SHA1(secret, username))', async () => {
      hub = await core.start({ secret: SECRET, stunUrls: ['stun:turn.example:3478'], turn: { urls: ['turn:turn.example:3478?transport=udp'], ttlSeconds: 600 } });
      const c = await client(await mintToken(SECRET, { identity: 'erin' }, 60));
      const w: WelcomeFrame = await c.connect();
      expect(w.iceServers[0]).toEqual({ urls: ['stun:turn.example:3478'] });
      const turn = w.iceServers[1]!;
      const [expiry, identity] = turn.username!.split(':');
      expect(identity).toBe('erin');
      expect(Number(expiry) - Date.now() / 1000).toBeGreaterThan(590);
      expect(Number(expiry) - Date.now() / 1000).toBeLessThan(610);
      expect(turn.credential).toBe(createHmac('sha1', SECRET).update(turn.username!).digest('base64'));
    });

    it('a separate TURN secret (external coturn) is used when given', async () => {
      hub = await core.start({ turn: { urls: ['turn:coturn.example:3478'], secret: 'coturn-secret' } });
      const w = await (await client()).connect();
      expect(w.iceServers[0]!.credential).toBe(createHmac('sha1', 'coturn-secret').update(w.iceServers[0]!.username!).digest('base64'));
    });
  });
});
