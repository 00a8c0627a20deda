import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ErrorFrame } from '@pinhole/protocol';
import type { RunningHub } from '../src/index.js';
import { TestClient } from './support/client.js';
import { joined, testCores } from './support/hub.js';

const cores = testCores();

describe.each(cores)('$name core', (core) => {
  let hub: RunningHub;
  const clients: TestClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await hub.close();
  });

  it('rate limit: frames past the token bucket get rate-limited errors, the connection stays, the bucket refills', async () => {
    hub = await core.start({ ratePerSecond: 20, rateBurst: 10 });
    const a = await joined(hub, 'rate');
    const b = await joined(hub, 'rate');
    clients.push(a, b);
    for (let n = 0; n < 30; n++) a.send({ type: 'signal', to: b.peer, data: { n } });
    await a.next((f) => f.type === 'error' && f.code === 'rate-limited');
    // Every frame is answered one way or the other (a frame neither delivered nor refused fails here).
    const limitedNow = () => a.received.filter((f) => f.type === 'error' && f.code === 'rate-limited').length;
    const deliveredNow = () => b.received.filter((f) => f.type === 'signal').length;
    await a.until(() => limitedNow() + deliveredNow() >= 30);
    const [limited, delivered] = [limitedNow(), deliveredNow()];
    expect(limited + delivered).toBe(30);
    expect(delivered).toBeGreaterThanOrEqual(8); // burst (minus the join) plus refill
    expect(delivered).toBeLessThan(20);
    // 20 tokens/s: 100 ms of any clock's time refills two, however loaded the machine.
    await new Promise((r) => setTimeout(r, 100));
    a.send({ type: 'signal', to: b.peer, data: 'after refill' });
    await b.next((f) => f.type === 'signal' && f.data === 'after refill');
  });

  it('max connections per IP: the next WebSocket upgrade and SSE stream get 429', async () => {
    hub = await core.start({ maxConnectionsPerIp: 2 });
    const a = new TestClient(hub.url);
    const b = new TestClient(hub.url);
    clients.push(a, b);
    await a.connect();
    await b.connect();
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/v1/ws`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    expect(status).toBe(429);
    const hello = (await (await fetch(`${hub.url}/v1/send`, { method: 'POST', body: '{"type":"hello"}' })).json()) as { session: string; key: string };
    const sse = await fetch(`${hub.url}/v1/sse?session=${hello.session}&key=${hello.key}`);
    expect(sse.status).toBe(429);
    expect(await sse.json()).toMatchObject({ code: 'too-many-connections' });
    // Closing one frees a slot.
    await a.close();
    await new Promise((r) => setTimeout(r, 50));
    const c = new TestClient(hub.url);
    clients.push(c);
    await c.connect();
  });

  it('max rooms per session', async () => {
    hub = await core.start({ maxRoomsPerSession: 2 });
    const a = await joined(hub, 'r1');
    clients.push(a);
    a.send({ type: 'join', room: 'r2' });
    a.send({ type: 'join', room: 'r3' });
    expect(await a.next<ErrorFrame>((f) => f.type === 'error')).toMatchObject({ code: 'too-many-rooms' });
    expect([...a.received.filter((f) => f.type === 'joined').map((f) => (f as { room: string }).room)]).toEqual(['r1', 'r2']);
  });

  it('max peers per room', async () => {
    hub = await core.start({ maxPeersPerRoom: 2 });
    clients.push(await joined(hub, 'small'), await joined(hub, 'small'));
    const third = new TestClient(hub.url);
    clients.push(third);
    await third.connect();
    third.send({ type: 'join', room: 'small' });
    expect(await third.next<ErrorFrame>((f) => f.type === 'error')).toMatchObject({ code: 'room-full', frame: 'join' });
  });

  it('join meta over its size limit is refused', async () => {
    hub = await core.start({ maxMetaBytes: 64 });
    const a = new TestClient(hub.url);
    clients.push(a);
    await a.connect();
    a.send({ type: 'join', room: 'meta', meta: { name: 'x'.repeat(100) } });
    expect(await a.next<ErrorFrame>((f) => f.type === 'error')).toMatchObject({ code: 'too-large', frame: 'join' });
  });

  it('a session whose replay buffer overflows is ended, not silently truncated', async () => {
    hub = await core.start({ maxReplayFrames: 50, ratePerSecond: Infinity });
    const a = await joined(hub, 'overflow');
    const b = await joined(hub, 'overflow');
    clients.push(a, b);
    b.drop();
    for (let n = 0; n < 60; n++) a.send({ type: 'signal', to: b.peer, data: { n } });
    expect(await a.next((f) => f.type === 'peer-left')).toMatchObject({ peer: b.peer, reason: 'closed' });
    await expect(b.resume()).rejects.toMatchObject({ code: 'session-unknown' });
  });
});
