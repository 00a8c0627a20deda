import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningHub } from '../src/index.js';
import { testCores } from './support/hub.js';

// Arrays of frames in one WebSocket message: accepted from every client; sent to clients whose hello asked (`batch`).

const cores = testCores();

describe.each(cores)('$name core', (core) => {
  let hub: RunningHub;
  const sockets: WebSocket[] = [];
  beforeEach(async () => {
    hub = await core.start({ maxFrameBytes: 4096 });
  });
  afterEach(async () => {
    for (const ws of sockets.splice(0)) ws.terminate();
    await hub.close();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw JSON from the hub
  type Msg = any;

  /** A raw WebSocket client that keeps every message as parsed JSON (an object, or an array). */
  async function open(hello: Record<string, unknown> = { type: 'hello' }): Promise<{ ws: WebSocket; messages: Msg[]; welcome: Msg; next: (pred: (m: Msg) => boolean) => Promise<Msg> }> {
    const ws = new WebSocket(`${hub.url.replace(/^http/, 'ws')}/v1/ws`);
    sockets.push(ws);
    const messages: Msg[] = [];
    const waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as Msg;
      messages.push(m);
      for (const w of waiters.splice(0)) {
        if (w.pred(m)) w.resolve(m);
        else waiters.push(w);
      }
    });
    const next = (pred: (m: Msg) => boolean): Promise<Msg> => {
      const found = messages.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    };
    await new Promise((resolve) => ws.once('open', resolve));
    if (hello.type !== 'none') ws.send(JSON.stringify(hello));
    const welcome = hello.type === 'none' ? undefined : await next((m) => m.type === 'welcome');
    return { ws, messages, welcome, next };
  }

  const frames = (messages: Msg[]): Msg[] => messages.flatMap((m) => (Array.isArray(m) ? m : [m]));

  describe('WebSocket arrays of frames', () => {
    it('an array from a client is applied in order; a bad item gets a sequenced error and the rest go on', async () => {
      const b = await open();
      b.ws.send(JSON.stringify({ type: 'join', id: 1, room: 'arr' }));
      await b.next((m) => m.type === 'joined');
      const a = await open();
      a.ws.send(
        JSON.stringify([
          { type: 'join', id: 1, room: 'arr' },
          { type: 'broadcast', id: 2, room: 'arr', data: 1 },
          { type: 'nope', id: 3 },
          { type: 'hello', id: 4 },
          { type: 'broadcast', id: 5, room: 'arr', data: 2 },
          { type: 'ping', id: 6 },
        ]),
      );
      await a.next((m) => m.type === 'pong');
      const got = frames(a.messages).filter((f) => f.type !== 'welcome');
      expect(got.map((f) => f.type)).toEqual(['joined', 'error', 'error', 'pong']);
      expect(got[1]).toMatchObject({ code: 'unknown-type', ref: 3 });
      expect(got[2]).toMatchObject({ code: 'already-welcomed', ref: 4 });
      expect(got[3]).toMatchObject({ lastId: 6 });
      await b.next((m) => frames([m]).some((f) => f.type === 'broadcast' && f.data === 2));
      expect(frames(b.messages).filter((f) => f.type === 'broadcast').map((f) => f.data)).toEqual([1, 2]);
    });

    it('a client that asked for batch gets one tick’s frames as one array; one that did not gets one frame per message', async () => {
      const batching = await open({ type: 'hello', batch: true });
      const plain = await open();
      for (const c of [batching, plain]) {
        c.ws.send(JSON.stringify({ type: 'join', id: 1, room: 'out' }));
        await c.next((m) => frames([m]).some((f) => f.type === 'joined'));
      }
      const sender = await open();
      sender.ws.send(JSON.stringify({ type: 'join', id: 1, room: 'out' }));
      const joined = await sender.next((m) => m.type === 'joined');
      const seen = (m: Msg) => frames([m]).some((f) => f.type === 'peer-joined' && f.peer === joined.peer);
      await batching.next(seen);
      await plain.next(seen);
      const before = { batching: batching.messages.length, plain: plain.messages.length };
      sender.ws.send(JSON.stringify(Array.from({ length: 10 }, (_, n) => ({ type: 'broadcast', id: n + 2, room: 'out', data: n }))));
      const last = (m: Msg) => frames([m]).some((f) => f.type === 'broadcast' && f.data === 9);
      await batching.next(last);
      await plain.next(last);
      const batchMsgs = batching.messages.slice(before.batching);
      const plainMsgs = plain.messages.slice(before.plain);
      expect(plainMsgs).toHaveLength(10);
      expect(plainMsgs.every((m) => !Array.isArray(m))).toBe(true);
      expect(batchMsgs).toHaveLength(1);
      expect(frames(batchMsgs).map((f) => f.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // Still numbered one by one: seq runs on across the array.
      const seqs = frames(batchMsgs).map((f) => f.seq);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
    });

    it('bad arrays: before the welcome, not JSON, a non-boolean batch, an item over the limit', async () => {
      const early = await open({ type: 'none' });
      early.ws.send(JSON.stringify([{ type: 'hello' }]));
      expect(await early.next((m) => m.type === 'error')).toMatchObject({ code: 'hello-required' });
      expect(early.messages[0].seq).toBeUndefined(); // loose: there is no session yet

      const badHello = await open({ type: 'none' });
      badHello.ws.send(JSON.stringify({ type: 'hello', batch: 'yes' }));
      expect(await badHello.next((m) => m.type === 'error')).toMatchObject({ code: 'bad-frame' });

      const a = await open();
      a.ws.send('[{"type":"ping","id":1},');
      expect(await a.next((m) => m.type === 'error')).toMatchObject({ code: 'bad-json' });
      a.ws.send(JSON.stringify([{ type: 'ping', id: 1, pad: 'x'.repeat(5000) }, { type: 'ping', id: 2 }]));
      const big = await a.next((m) => m.type === 'error' && m.code === 'too-large');
      expect(big).toMatchObject({ ref: 1 });
      expect(await a.next((m) => m.type === 'pong')).toMatchObject({ ref: 2, lastId: 2 });
      expect(a.ws.readyState).toBe(WebSocket.OPEN);
    });
  });
});
