import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ErrorFrame, ServerFrame } from '@pinhole/protocol';
import type { RunningHub } from '../src/index.js';
import type { TestClient } from './support/client.js';
import { joined, testCores } from './support/hub.js';

const MAX = 4096;

const cores = testCores();

describe.each(cores)('$name core', (core) => {
  let hub: RunningHub;
  let a: TestClient;
  let b: TestClient;
  beforeEach(async () => {
    hub = await core.start({ maxFrameBytes: MAX });
    a = await joined(hub, 'bad');
    b = await joined(hub, 'bad');
    await a.next((f) => f.type === 'peer-joined');
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    await hub.close();
  });

  /** Bad frames sent on an established WebSocket session, and the error each must get. */
  const cases: { name: string; frame: () => string | Buffer; code: string }[] = ([
    ['malformed JSON', () => '{"type":"signal",', 'bad-json'],
    ['not an object', () => '[1,2,3]', 'bad-frame'],
    ['a JSON string', () => '"hello"', 'bad-frame'],
    ['no type', () => '{"to":"x","data":1}', 'bad-frame'],
    ['unknown type', () => '{"type":"teleport"}', 'unknown-type'],
    ['signal without to', () => '{"type":"signal","data":1}', 'bad-frame'],
    ['signal with numeric to', () => '{"type":"signal","to":5,"data":1}', 'bad-frame'],
    ['signal without data', () => `{"type":"signal","to":"${b.peer}"}`, 'bad-frame'],
    ['join with bad room name', () => '{"type":"join","room":"../etc"}', 'bad-frame'],
    ['join with array meta', () => '{"type":"join","room":"ok","meta":[1]}', 'bad-frame'],
    ['ack with negative seq', () => '{"type":"ack","seq":-1}', 'bad-frame'],
    ['id of the wrong type', () => '{"type":"ping","id":{"x":1}}', 'bad-frame'],
    ['oversize frame', () => JSON.stringify({ type: 'broadcast', room: 'bad', data: 'x'.repeat(MAX) }), 'too-large'],
    ['binary message', () => Buffer.from([1, 2, 3]), 'bad-frame'],
    ['signal to an unknown peer', () => '{"type":"signal","to":"nobody","data":1}', 'unknown-peer'],
    ['broadcast to a room not joined', () => '{"type":"broadcast","room":"elsewhere","data":1}', 'not-in-room'],
    ['leave a room not joined', () => '{"type":"leave","room":"elsewhere"}', 'not-in-room'],
    ['second hello', () => '{"type":"hello"}', 'already-welcomed'],
  ] as const).map(([name, frame, code]) => ({ name, frame, code }));

  describe('bad input on a WebSocket session gets an error frame; the connection, the hub and queued frames survive', () => {
    it.each(cases)('$name → $code', async ({ frame, code }) => {
      // Queue frames for `a` while it is detached-free but not reading: they must all still arrive.
      for (let n = 0; n < 5; n++) b.send({ type: 'signal', to: a.peer, data: { n } });
      const before = a.received.length;
      a.raw(frame());
      const err = await a.next<ErrorFrame>((f) => f.type === 'error', 3000, before);
      expect(err.code).toBe(code);
      expect(typeof err.message).toBe('string');
      expect(err.message.length).toBeGreaterThan(5);
      expect(typeof err.seq).toBe('number');
      // Still connected and working both ways.
      a.send({ type: 'signal', to: b.peer, data: 'still alive' });
      await b.next((f) => f.type === 'signal' && f.data === 'still alive');
      await a.until(() => a.received.filter((f) => f.type === 'signal').length === 5);
      expect(a.received.filter((f) => f.type === 'signal').map((f) => (f as unknown as { data: { n: number } }).data.n)).toEqual([0, 1, 2, 3, 4]);
      expect(a.gaps).toEqual([]);
      const health = await fetch(`${hub.url}/healthz`);
      expect(health.status).toBe(200);
    });

    it('an error carries ref and frame of the offending client frame', async () => {
      const id = a.send({ type: 'signal', to: 'ghost', data: 1 });
      const err = await a.next<ErrorFrame>((f) => f.type === 'error');
      expect(err).toMatchObject({ code: 'unknown-peer', ref: id, frame: 'signal' });
    });

    it('a frame beyond 4× the limit closes only that connection (1009); the session resumes', async () => {
      const closed = new Promise<number>((resolve) => {
        const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/v1/ws`);
        ws.on('open', () => ws.send('x'.repeat(MAX * 4 + 1)));
        ws.on('close', (code) => resolve(code));
      });
      expect(await closed).toBe(1009);
      expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
    });
  });

  describe('before hello', () => {
    async function raw(frames: string[]): Promise<ServerFrame[]> {
      const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/v1/ws`);
      const got: ServerFrame[] = [];
      ws.on('message', (d) => got.push(JSON.parse(d.toString())));
      await new Promise((r) => ws.on('open', r));
      for (const f of frames) ws.send(f);
      await new Promise((r) => setTimeout(r, 150));
      ws.close();
      return got;
    }

    it('frames before hello get hello-required; a later hello still works', async () => {
      const got = await raw(['{"type":"join","room":"x"}', '{"type":"hello"}']);
      expect(got[0]).toMatchObject({ type: 'error', code: 'hello-required' });
      expect(got[0]).not.toHaveProperty('seq');
      expect(got[1]).toMatchObject({ type: 'welcome' });
    });

    it('a resume with a wrong key is refused', async () => {
      const w = a.welcome!;
      const got = await raw([JSON.stringify({ type: 'hello', resume: { session: w.session, key: 'wrong-key', lastSeq: 0 } })]);
      expect(got[0]).toMatchObject({ type: 'error', code: 'unauthorized' });
    });

    it('a resume ahead of the session is refused', async () => {
      const w = a.welcome!;
      const got = await raw([JSON.stringify({ type: 'hello', resume: { session: w.session, key: w.key, lastSeq: 9999 } })]);
      expect(got[0]).toMatchObject({ type: 'error', code: 'bad-frame' });
    });
  });

  describe('bad input over HTTP', () => {
    const post = (path: string, body: string) => fetch(`${hub.url}${path}`, { method: 'POST', body });

    it.each([
      { name: 'malformed JSON hello', path: '/v1/send', body: '{nope', status: 400, code: 'bad-json' },
      { name: 'a non-hello without session', path: '/v1/send', body: '{"type":"join","room":"r"}', status: 400, code: 'hello-required' },
      { name: 'unknown type', path: '/v1/send', body: '{"type":"what"}', status: 400, code: 'unknown-type' },
      { name: 'unknown session', path: '/v1/send?session=nope&key=k', body: '{"type":"ping"}', status: 404, code: 'session-unknown' },
      { name: 'oversize body', path: '/v1/send', body: JSON.stringify({ type: 'hello', token: 'x'.repeat(MAX * 8) }), status: 413, code: 'too-large' },
    ])('$name → $status $code', async ({ path, body, status, code }) => {
      const res = await post(path, body);
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({ type: 'error', code });
    });

    it('a wrong session key is refused on send, sse and poll', async () => {
      const s = a.welcome!.session;
      for (const res of [
        await post(`/v1/send?session=${s}&key=bad`, '{"type":"ping"}'),
        await fetch(`${hub.url}/v1/sse?session=${s}&key=bad`),
        await fetch(`${hub.url}/v1/poll?session=${s}&key=bad`),
      ]) {
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ code: 'unauthorized' });
      }
    });

    it('bad frames inside a posted batch get sequenced errors; the good ones are applied', async () => {
      const hello = (await (await post('/v1/send', '{"type":"hello"}')).json()) as { session: string; key: string };
      const q = `session=${hello.session}&key=${hello.key}`;
      const res = await post(`/v1/send?${q}`, JSON.stringify([{ type: 'join', id: 1, room: 'bad' }, { type: 'nope', id: 2 }, { type: 'broadcast', id: 3, room: 'bad', data: 'ok' }]));
      expect(await res.json()).toMatchObject({ ok: true, lastId: 3 });
      const frames = (await (await fetch(`${hub.url}/v1/poll?${q}&ack=0`)).json()) as ServerFrame[];
      expect(frames.map((f) => f.type)).toEqual(['joined', 'error']);
      expect(frames[1]).toMatchObject({ code: 'unknown-type', ref: 2, seq: 2 });
      await a.next((f) => f.type === 'broadcast' && f.data === 'ok');
    });

    it('a retried POST (same ids) is applied once', async () => {
      const hello = (await (await post('/v1/send', '{"type":"hello"}')).json()) as { session: string; key: string };
      const q = `session=${hello.session}&key=${hello.key}`;
      await post(`/v1/send?${q}`, JSON.stringify({ type: 'join', id: 1, room: 'bad' }));
      const body = JSON.stringify([{ type: 'broadcast', id: 2, room: 'bad', data: 'once' }, { type: 'broadcast', id: 'str-id', room: 'bad', data: 'once-too' }]);
      await post(`/v1/send?${q}`, body);
      await post(`/v1/send?${q}`, body);
      await post(`/v1/send?${q}`, body);
      a.send({ type: 'ping' });
      await a.next((f) => f.type === 'pong');
      await new Promise((r) => setTimeout(r, 100));
      expect(a.received.filter((f) => f.type === 'broadcast' && f.data === 'once')).toHaveLength(1);
      expect(a.received.filter((f) => f.type === 'broadcast' && f.data === 'once-too')).toHaveLength(1);
    });

    it('unknown routes answer 404 not-found; a bad percent-escape in a room answers 400', async () => {
      for (const path of ['/v1/nothing-here', '/elsewhere']) {
        const res = await fetch(`${hub.url}${path}`);
        expect(res.status).toBe(404);
        expect(await res.json()).toMatchObject({ type: 'error', code: 'not-found' });
      }
      const bad = await fetch(`${hub.url}/v1/rooms/%E0/peers`);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ code: 'bad-frame' });
    });

    it('a batch item over the limit in UTF-8 bytes (not characters) is refused with its ref', async () => {
      const hello = (await (await post('/v1/send', '{"type":"hello"}')).json()) as { session: string; key: string };
      const q = `session=${hello.session}&key=${hello.key}`;
      const big = { type: 'ping', id: 1, pad: 'é'.repeat(MAX * 0.6) }; // ~0.6×MAX chars, ~1.2×MAX bytes
      expect(await (await post(`/v1/send?${q}`, JSON.stringify([big]))).json()).toMatchObject({ ok: true, lastId: 1 });
      const frames = (await (await fetch(`${hub.url}/v1/poll?${q}&ack=0`)).json()) as ServerFrame[];
      expect(frames[0]).toMatchObject({ type: 'error', code: 'too-large', ref: 1 });
    });

    it('an ack carrying an id consumes it, so lastId keeps moving', async () => {
      const hello = (await (await post('/v1/send', '{"type":"hello"}')).json()) as { session: string; key: string };
      const q = `session=${hello.session}&key=${hello.key}`;
      const reply = await post(`/v1/send?${q}`, JSON.stringify([{ type: 'ping', id: 1 }, { type: 'ack', id: 2, seq: 0 }, { type: 'ping', id: 3 }]));
      expect(await reply.json()).toMatchObject({ lastId: 3 });
    });

    it('SSE resumes from the larger of ?lastSeq and Last-Event-ID', async () => {
      for (let n = 0; n < 3; n++) b.send({ type: 'signal', to: a.peer, data: { n } });
      await a.until(() => a.received.filter((f) => f.type === 'signal').length === 3);
      const w = a.welcome!;
      const controller = new AbortController();
      const res = await fetch(`${hub.url}/v1/sse?session=${w.session}&key=${w.key}&lastSeq=0`, { headers: { 'last-event-id': String(a.lastSeq - 1) }, signal: controller.signal });
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes(`id: ${a.lastSeq}\n`)) text += new TextDecoder().decode((await reader.read()).value);
      controller.abort();
      const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
      expect(ids).toEqual([a.lastSeq]);
    });
  });
});
