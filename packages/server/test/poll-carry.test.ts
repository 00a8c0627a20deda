import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServerFrame } from '@pinhole/protocol';
import type { RunningHub } from '../src/index.js';
import { testCores } from './support/hub.js';

// `POST /v1/poll`: a long-poll that carries frames, applied as POST /v1/send would apply them.

const cores = testCores();

describe.each(cores)('$name core', (core) => {
  let hub: RunningHub;
  beforeEach(async () => {
    // Two tests wait a whole hold (a poll with nothing to answer): long enough for b's held
    // poll to outlast a's POST, no longer.
    hub = await core.start({ pollHoldMs: 800, maxFrameBytes: 4096 });
  });
  afterEach(async () => {
    await hub.close();
  });

  interface Session {
    q: string;
  }

  async function hello(): Promise<Session> {
    const res = await fetch(`${hub.url}/v1/send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"hello"}' });
    const w = (await res.json()) as { session: string; key: string };
    return { q: `session=${w.session}&key=${w.key}` };
  }

  function postPoll(s: Session, ack: number, body: unknown, signal?: AbortSignal): Promise<Response> {
    return fetch(`${hub.url}/v1/poll?${s.q}&ack=${ack}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal,
    });
  }

  const frames = async (res: Response): Promise<ServerFrame[]> => (await res.json()) as ServerFrame[];

  describe('POST /v1/poll', () => {
    it('applies the frames first, so their replies come in this answer, with lastId in a header', async () => {
      const a = await hello();
      const res = await postPoll(a, 0, [{ type: 'join', id: 1, room: 'carry' }, { type: 'ping', id: 2 }]);
      expect(res.status).toBe(200);
      expect(res.headers.get('pinhole-last-id')).toBe('2');
      const got = await frames(res);
      // A loose pong is not ordered with sequenced frames (the Redis core sequences later).
      expect(got.map((f) => f.type).sort()).toEqual(['joined', 'pong']);
      expect(got.find((f) => f.type === 'joined')).toMatchObject({ seq: 1, room: 'carry', ref: 1 });
    });

    it('a signal carried by one side reaches the other side’s held poll, and the reply carried back reaches the first', async () => {
      const a = await hello();
      const b = await hello();
      const aJoined = await frames(await postPoll(a, 0, { type: 'join', id: 1, room: 'pair' }));
      const bJoined = await frames(await postPoll(b, 0, { type: 'join', id: 1, room: 'pair' }));
      const aPeer = (aJoined[0] as { peer: string }).peer;
      const bPeer = (bJoined[0] as { peer: string }).peer;
      // a learns of b (peer-joined) with its next poll.
      const aSeen = await frames(await fetch(`${hub.url}/v1/poll?${a.q}&ack=1`));
      expect(aSeen[0]).toMatchObject({ type: 'peer-joined', peer: bPeer, seq: 2 });

      const bHeld = fetch(`${hub.url}/v1/poll?${b.q}&ack=1`); // b waits
      await new Promise((r) => setTimeout(r, 50));
      const aHeld = postPoll(a, 2, { type: 'signal', id: 2, to: bPeer, data: { n: 1 } }); // a sends, then waits
      const toB = await frames(await bHeld);
      expect(toB).toEqual([expect.objectContaining({ type: 'signal', from: aPeer, data: { n: 1 }, seq: 2 })]);
      // b answers inside its next poll; a's held poll gets it.
      const bNext = postPoll(b, 2, { type: 'signal', id: 2, to: aPeer, data: { n: 1, echo: true } });
      const aRes = await aHeld;
      expect(aRes.headers.get('pinhole-last-id')).toBe('2');
      expect(await frames(aRes)).toEqual([expect.objectContaining({ type: 'signal', from: bPeer, data: { n: 1, echo: true }, seq: 3 })]);
      const bRes = await bNext; // held until pollHoldMs: nothing more for b
      expect(bRes.headers.get('pinhole-last-id')).toBe('2');
      expect(await frames(bRes)).toEqual([]);
    });

    it('a retried poll (same ids) applies its frames once', async () => {
      const a = await hello();
      const b = await hello();
      await postPoll(a, 0, { type: 'join', id: 1, room: 'retry' });
      const bJoined = await frames(await postPoll(b, 0, { type: 'join', id: 1, room: 'retry' }));
      const body = { type: 'broadcast', id: 2, room: 'retry', data: 'once' };
      await (await postPoll(a, 1, body)).text(); // answered at once: a's peer-joined is waiting
      // The same frame again, as after a lost answer, with a ping: the ping answers at once.
      const again = await postPoll(a, 2, [body, { type: 'ping', id: 3 }]);
      expect(again.headers.get('pinhole-last-id')).toBe('3');
      expect((await frames(again)).map((f) => f.type)).toEqual(['pong']);
      // Once more: both are retries now, so nothing answers and the poll runs out its hold.
      const thrice = await postPoll(a, 2, [body, { type: 'ping', id: 3 }]);
      expect(thrice.headers.get('pinhole-last-id')).toBe('3');
      expect(await frames(thrice)).toEqual([]);
      const toB = await frames(await fetch(`${hub.url}/v1/poll?${b.q}&ack=${(bJoined.at(-1) as { seq: number }).seq}`));
      expect(toB.filter((f) => f.type === 'broadcast')).toHaveLength(1);
    });

    it('bad input refuses the whole request and applies nothing; the session carries on', async () => {
      const a = await hello();
      const notJson = await postPoll(a, 0, '{"type":"join",');
      expect(notJson.status).toBe(400);
      expect(await notJson.json()).toMatchObject({ type: 'error', code: 'bad-json' });
      const ahead = await postPoll(a, 5, { type: 'join', id: 1, room: 'nope' });
      expect(ahead.status).toBe(400);
      expect(await ahead.json()).toMatchObject({ type: 'error', code: 'bad-frame' });
      const big = await postPoll(a, 0, { type: 'join', id: 1, room: 'nope', meta: { pad: 'x'.repeat(5000) } });
      expect(big.status).toBe(413);
      expect(await big.json()).toMatchObject({ type: 'error', code: 'too-large' });
      const wrongKey = await fetch(`${hub.url}/v1/poll?${a.q}x&ack=0`, { method: 'POST', body: '{"type":"ping","id":1}' });
      expect(wrongKey.status).toBe(401);
      // Nothing of the above was applied: id 1 is still free, and the first seq is still 1.
      const ok = await postPoll(a, 0, [{ type: 'join', id: 1, room: 'fine' }, { type: 'nope', id: 2 }]);
      expect(ok.headers.get('pinhole-last-id')).toBe('2');
      const got = await frames(ok);
      expect(got[0]).toMatchObject({ type: 'joined', room: 'fine', seq: 1, ref: 1 });
      expect(got[1]).toMatchObject({ type: 'error', code: 'unknown-type', ref: 2, seq: 2 });
    });

    it('GET answers carry pinhole-last-id too', async () => {
      const a = await hello();
      await fetch(`${hub.url}/v1/send?${a.q}`, { method: 'POST', body: JSON.stringify([{ type: 'join', id: 1, room: 'x' }, { type: 'ping', id: 2 }]) });
      const res = await fetch(`${hub.url}/v1/poll?${a.q}&ack=0`);
      expect(res.headers.get('pinhole-last-id')).toBe('2');
      expect((await frames(res)).map((f) => f.type)).toEqual(['joined']); // the pong had no poll to go to: loose, dropped
    });
  });
});
