/**
 * The SDK's signaling against a real hub: every transport, rooms and messages, the
 * ladder's fallbacks (refused, stalled, 5xx, buffered), upward probing, lossless
 * reconnects and a session that outlives its grace period.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningHub } from '@pinhole/server';
import type { Json } from '@pinhole/protocol';
import { HubSignaler, HubError } from '../src/signaling/hub-signaler.js';
import { nodePlatform } from '@pinhole/node';
import type { TransportName } from '../src/signaling/link.js';
import type { HubConnectionOptions } from '../src/signaling/hub-connection.js';
import { startTestHub } from '@pinhole/test-kit/hub';
import { until } from '@pinhole/test-kit/wait';
import { Front } from './support/front.js';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function hub(options: Parameters<typeof startTestHub>[0] = {}): Promise<RunningHub> {
  const h = await startTestHub(options);
  cleanup.push(() => h.close());
  return h;
}

async function signaler(url: string, options: Partial<HubConnectionOptions> = {}): Promise<HubSignaler> {
  const s = new HubSignaler(url, { platform: nodePlatform(), openTimeoutMs: 2000, reconnect: { initialDelayMs: 50, maxDelayMs: 500 }, ...options });
  cleanup.push(() => s.close());
  await s.open();
  return s;
}

/** Collects `signal` payloads in arrival order. */
function inbox(s: HubSignaler): Json[] {
  const got: Json[] = [];
  s.on('signal', (m) => got.push(m.data));
  return got;
}

describe('rooms and messages on every transport', () => {
  for (const transport of ['ws', 'sse', 'poll'] as TransportName[]) {
    it(`${transport}: join, presence, signal, broadcast, leave`, async () => {
      const h = await hub();
      const a = await signaler(h.url, { transports: [transport] });
      const b = await signaler(h.url, { transports: ['ws'] });
      expect(a.transport).toBe(transport);
      expect(await a.join('r1', { name: 'A' })).toEqual([]);
      const joinedSeen = a.next('peer-joined', 5000);
      expect(await b.join('r1', { name: 'B' })).toEqual([{ peer: a.localId, meta: { name: 'A' } }]);
      expect(await joinedSeen).toEqual({ room: 'r1', peer: { peer: b.localId, meta: { name: 'B' } } });

      const aGot = inbox(a);
      const bGot = inbox(b);
      b.signal(a.localId, { n: 1 }, 'r1');
      a.signal(b.localId, 'hello b');
      const bc = b.next('broadcast', 5000);
      a.broadcast('r1', [1, 2, 3]);
      expect(await bc).toEqual({ room: 'r1', from: a.localId, data: [1, 2, 3] });
      await until(() => aGot.length === 1 && bGot.length === 1, 5000, 'signals');
      expect(aGot).toEqual([{ n: 1 }]);
      expect(bGot).toEqual(['hello b']);

      const left = a.next('peer-left', 5000);
      await b.leave('r1');
      expect(await left).toEqual({ room: 'r1', peer: b.localId, reason: 'leave' });
    });
  }

  it('refused joins and signals surface as HubError', async () => {
    const h = await hub({ maxPeersPerRoom: 1 });
    const a = await signaler(h.url);
    const b = await signaler(h.url);
    await a.join('full');
    await expect(b.join('full')).rejects.toMatchObject({ code: 'room-full' });
    await expect(b.join('bad room name!')).rejects.toBeInstanceOf(HubError);
    const err = b.next('error', 5000);
    b.signal('nobody', 1);
    expect((await err).code).toBe('unknown-peer');
    // The session is still fine afterwards.
    await b.join('other');
  });

  it('a bad token is refused at once, without walking the ladder forever', async () => {
    const h = await hub({ secret: 's'.repeat(32) });
    const s = new HubSignaler(h.url, { platform: nodePlatform(), token: 'not-a-jwt' });
    await expect(s.open()).rejects.toMatchObject({ code: 'unauthorized' });
  });
});

/**
 * A Node platform that logs every request as `METHOD /path`, the poll answers'
 * Pinhole-Last-Id, and every WebSocket message it sends.
 */
function recordingPlatform(): { platform: ReturnType<typeof nodePlatform>; requests: string[]; lastIds: number[]; messages: string[] } {
  const base = nodePlatform();
  const requests: string[] = [];
  const lastIds: number[] = [];
  const messages: string[] = [];
  const platform = {
    ...base,
    openWebSocket(url: string) {
      const ws = base.openWebSocket(url);
      const send = ws.send.bind(ws);
      ws.send = (data: string) => {
        messages.push(data);
        send(data);
      };
      return ws;
    },
    fetch: async (url: string, init: RequestInit) => {
      const path = new URL(url).pathname;
      requests.push(`${init.method ?? 'GET'} ${path}`);
      const res = await base.fetch(url, init);
      const lastId = res.headers.get('pinhole-last-id');
      if (path === '/v1/poll' && lastId !== null) lastIds.push(Number(lastId));
      return res;
    },
  };
  return { platform, requests, lastIds, messages };
}

describe('links batch what is written together', () => {
  it('ws: frames written in one task leave in one message; the hub’s arrays are read in order', async () => {
    const h = await hub();
    const { platform, messages } = recordingPlatform();
    const a = await signaler(h.url, { transports: ['ws'], platform });
    const b = await signaler(h.url, { transports: ['ws'] });
    await a.join('burst');
    await b.join('burst');
    const bGot = inbox(b);
    expect(JSON.parse(messages[0]!)).toMatchObject({ type: 'hello', batch: true });
    const before = messages.length;
    for (let n = 0; n < 20; n++) a.signal(b.localId, n, 'burst');
    await until(() => bGot.length === 20, 5000, 'the burst');
    expect(bGot).toEqual(Array.from({ length: 20 }, (_, n) => n));
    const sent = messages.slice(before).map((m) => JSON.parse(m) as unknown);
    expect(sent).toHaveLength(1);
    expect((sent[0] as { type: string }[]).map((f) => f.type)).toEqual(Array(20).fill('signal'));
  });


  it('sse: frames written in one task go in one POST /v1/send', async () => {
    const h = await hub();
    const { platform, requests } = recordingPlatform();
    const a = await signaler(h.url, { transports: ['sse'], platform });
    const b = await signaler(h.url, { transports: ['ws'] });
    await a.join('burst');
    await b.join('burst');
    const bGot = inbox(b);
    const before = requests.length;
    for (let n = 0; n < 20; n++) a.signal(b.localId, n, 'burst');
    await until(() => bGot.length === 20, 5000, 'the burst');
    expect(bGot).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(requests.slice(before)).toEqual(['POST /v1/send']);
  });

  it('poll: replies written while a poll answer is handled ride on the next poll (POST /v1/poll), exactly once and in order', async () => {
    const h = await hub({ pollHoldMs: 500 });
    const { platform, requests, lastIds } = recordingPlatform();
    const a = await signaler(h.url, { transports: ['poll'], platform });
    const b = await signaler(h.url, { transports: ['ws'] });
    await a.join('echo');
    await b.join('echo');
    a.on('signal', (m) => a.signal(m.from, { echo: m.data }, 'echo')); // answers at once
    const bGot = inbox(b);
    const N = 60;
    for (let n = 0; n < N; n++) {
      b.signal(a.localId, n, 'echo');
      if (n % 3 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => bGot.length === N, 10_000, 'echoes');
    expect(bGot).toEqual(Array.from({ length: N }, (_, n) => ({ echo: n })));
    const carried = requests.filter((r) => r === 'POST /v1/poll').length;
    const posted = requests.filter((r) => r === 'POST /v1/send').length;
    expect(carried).toBeGreaterThan(0);
    // Every echo went in a poll: only the hello and the join needed POST /v1/send.
    expect(posted).toBeLessThanOrEqual(2);
    // Poll answers report lastId (the join is id 1, the echoes 2…N+1), so the retained
    // frames are trimmed without POST replies; the last carrying poll answers within its hold.
    await until(() => Math.max(...lastIds) === N + 1, 5000, 'lastId reported');
  });
});

describe('the transport ladder', () => {
  async function behind(mode: ConstructorParameters<typeof Front>[1]): Promise<{ front: Front; url: string }> {
    const h = await hub();
    const front = new Front(h.url, mode);
    const url = await front.listen();
    cleanup.push(() => front.close());
    return { front, url };
  }

  it('falls to SSE when WebSocket upgrades are refused (hub switch)', async () => {
    const h = await hub({ refuseWebSocket: true });
    const s = await signaler(h.url);
    expect(s.transport).toBe('sse');
  });

  it('falls to long-poll when the upgrade is refused and only ws/poll are allowed', async () => {
    const { url } = await behind('refuse-ws');
    const s = await signaler(url, { transports: ['ws', 'poll'] });
    expect(s.transport).toBe('poll');
  });

  it('falls past a proxy that accepts the upgrade and then stalls', async () => {
    const { url, front } = await behind('stall-ws');
    const t0 = Date.now();
    const s = await signaler(url, { openTimeoutMs: 1000 });
    expect(s.transport).toBe('sse');
    expect(front.counts.ws).toBe(1);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('falls to long-poll on 502s for WebSocket and SSE', async () => {
    const { url } = await behind('ws-sse-502');
    const s = await signaler(url);
    expect(s.transport).toBe('poll');
    await s.join('x');
  });

  it('falls to long-poll when a proxy buffers the SSE stream', async () => {
    const { url } = await behind('buffer-sse');
    const s = await signaler(url, { openTimeoutMs: 1000 });
    expect(s.transport).toBe('poll');
  });

  it('probes upward again later and moves back to WebSocket, losing nothing', async () => {
    const { url, front } = await behind('refuse-ws');
    const a = await signaler(url, { probeIntervalMs: 300 });
    const b = await signaler(url);
    expect(a.transport).toBe('sse');
    await a.join('p');
    await b.join('p');
    const got = inbox(a);
    const changed = a.next('transport-changed', 10_000);
    let n = 0;
    const sender = setInterval(() => b.signal(a.localId, n++), 5);
    await new Promise((r) => setTimeout(r, 400));
    front.mode = 'pass';
    expect(await changed).toEqual({ from: 'sse', to: 'ws' });
    await new Promise((r) => setTimeout(r, 200));
    clearInterval(sender);
    await until(() => got.length === n, 5000, 'all signals');
    expect(got).toEqual([...Array(n).keys()]);
  });
});

describe('reconnecting', () => {
  it('drops on every transport lose, duplicate and reorder nothing, in both directions', async () => {
    const h = await hub({ ratePerSecond: 0 });
    const a = await signaler(h.url, { transports: ['ws', 'sse', 'poll'] });
    const b = await signaler(h.url, { transports: ['poll'] });
    await a.join('d');
    await b.join('d');
    const aGot = inbox(a);
    const bGot = inbox(b);
    const events: string[] = [];
    a.on('reconnecting', () => events.push('reconnecting'));
    a.on('reconnected', () => events.push('reconnected'));
    const N = 600;
    for (let i = 0; i < N; i++) {
      a.signal(b.localId, i);
      b.signal(a.localId, i);
      if (i % 100 === 50) {
        // Drop both mid-stream (frames already sent are in flight or retained), keep sending
        // while they reconnect, then wait for both before the next drop.
        const back = Promise.all([a.next('reconnected', 10_000), b.next('reconnected', 10_000)]);
        a.connection.drop();
        b.connection.drop();
        for (let j = 0; j < 5; j++) {
          a.signal(b.localId, ++i);
          b.signal(a.localId, i);
        }
        await back;
      }
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => aGot.length >= N && bGot.length >= N, 20_000, `all frames (a ${aGot.length}, b ${bGot.length})`);
    await new Promise((r) => setTimeout(r, 100));
    expect(aGot).toEqual([...Array(N).keys()]);
    expect(bGot).toEqual([...Array(N).keys()]);
    expect(events.filter((e) => e === 'reconnected').length).toBe(6);
    expect(a.state).toBe('connected');
  });

  it('rides out a hub restart: a new session, rooms joined again, `expired` and `rejoined` fired', async () => {
    const h1 = await startTestHub({ graceMs: 200 });
    const port = h1.port;
    const a = await signaler(h1.url, { reconnect: { initialDelayMs: 100, maxDelayMs: 200 } });
    await a.join('r', { name: 'A' });
    const oldId = a.localId;
    const expired = a.next('expired', 15_000);
    const rejoined = a.next('rejoined', 15_000);
    await h1.close();
    await new Promise((r) => setTimeout(r, 300));
    const h2 = await hub({ port });
    const b = await signaler(h2.url);
    await b.join('r', { name: 'B' });
    await expired;
    const r = await rejoined;
    expect(r.room).toBe('r');
    expect(r.peers).toEqual([{ peer: b.localId, meta: { name: 'B' } }]);
    expect(a.localId).not.toBe(oldId);
    expect(a.state).toBe('connected');
    // Messages flow on the new session.
    const got = b.next('signal', 5000);
    a.signal(b.localId, 'after');
    expect((await got).data).toBe('after');
  });

  it('notices a silent WebSocket (no pongs) and resumes', async () => {
    const h = await hub({ heartbeatMs: 300 });
    const front = new Front(h.url);
    const url = await front.listen();
    cleanup.push(() => front.close());
    const a = await signaler(url, { transports: ['ws'] });
    await a.join('s');
    const reconnected = a.next('reconnected', 10_000);
    // Freeze the link: the proxy keeps the TCP connection but forwards nothing more.
    for (const sock of front.sockets) sock.pause();
    expect((await reconnected).resumed).toBe(true);
  });
});
