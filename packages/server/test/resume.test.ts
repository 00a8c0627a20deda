import { afterEach, describe, expect, it } from 'vitest';
import type { PeerLeftFrame, ServerFrame } from '@pinhole/protocol';
import type { RunningHub } from '../src/index.js';
import { TestClient, type TransportName } from './support/client.js';
import { TRANSPORTS, joined, testCores } from './support/hub.js';

const cores = testCores();

describe.each(cores)('$name core', (core) => {
  let hub: RunningHub | undefined;
  const clients: TestClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await hub?.close();
  });

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** Seeded PRNG so a failure can be replayed. */
  function rng(seed: number): () => number {
    return () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
  }

  function counters(frames: ServerFrame[], from: string): number[] {
    return frames.filter((f) => f.type === 'signal' && f.from === from).map((f) => (f as unknown as { data: { n: number } }).data.n);
  }

  it('a client dropped 220 times at random moments, switching transports, loses, duplicates and reorders nothing', async () => {
    hub = await core.start({ ratePerSecond: Infinity, pollHoldMs: 1000 });
    const random = rng(Number(process.env.RESUME_SEED ?? 42));
    const steady = await joined(hub, 'resume', { transport: 'ws' });
    const flaky = await joined(hub, 'resume', { transport: 'ws' });
    clients.push(steady, flaky);
    await steady.next((f) => f.type === 'peer-joined');

    // The steady partner keeps sending throughout.
    let sentToFlaky = 0;
    let sending = true;
    const pump = (async () => {
      while (sending) {
        for (let i = 0; i < 3; i++) steady.send({ type: 'signal', to: flaky.peer, data: { n: sentToFlaky++ } });
        await sleep(1);
      }
    })();

    let sentToSteady = 0;
    let switches = 0;
    const DROPS = 220;
    for (let i = 0; i < DROPS; i++) {
      await sleep(random() * 12);
      flaky.send({ type: 'signal', to: steady.peer, data: { n: sentToSteady++ } });
      flaky.drop();
      // Sometimes send while disconnected: retained, sent on resume.
      if (random() < 0.3) flaky.send({ type: 'signal', to: steady.peer, data: { n: sentToSteady++ } });
      await sleep(random() * 5);
      const next: TransportName = random() < 0.3 ? TRANSPORTS[Math.floor(random() * 3)]! : flaky.transport;
      if (next !== flaky.transport) switches++;
      const welcome = await flaky.resume(next);
      expect(welcome.resumed).toBe(true);
      expect(welcome.peer).toBe(flaky.peer);
    }
    sending = false;
    await pump;
    if (flaky.transport !== 'ws') await flaky.resume('ws');
    flaky.send({ type: 'ping' });

    await flaky.until(() => counters(flaky.received, steady.peer).length >= sentToFlaky, 20_000);
    await steady.until(() => counters(steady.received, flaky.peer).length >= sentToSteady, 20_000);
    const got = counters(flaky.received, steady.peer);
    const back = counters(steady.received, flaky.peer);
    expect(got).toEqual([...Array(sentToFlaky).keys()]);
    expect(back).toEqual([...Array(sentToSteady).keys()]);
    expect(flaky.gaps).toEqual([]);
    expect(steady.gaps).toEqual([]);
    // The partner never saw the flaky one leave: presence held through every drop.
    expect(steady.received.filter((f) => f.type === 'peer-left')).toEqual([]);
    expect(switches).toBeGreaterThan(20);
    expect(sentToFlaky).toBeGreaterThan(1000);
    console.log(`resume: ${DROPS} drops, ${switches} transport switches, ${sentToFlaky} frames to the flaky client, ${sentToSteady} back, ${flaky.duplicatesDropped} replayed duplicates dropped by seq`);
  }, 120_000);

  it('a detached session stays present during the grace period, then peers see peer-left (timeout)', async () => {
    hub = await core.start({ graceMs: 400 });
    const a = await joined(hub, 'grace');
    const b = await joined(hub, 'grace');
    clients.push(a, b);
    await a.next((f) => f.type === 'peer-joined');
    b.drop();
    await sleep(200);
    expect(a.received.some((f) => f.type === 'peer-left')).toBe(false);
    const left = await a.next<PeerLeftFrame>((f) => f.type === 'peer-left', 3000);
    expect(left).toMatchObject({ peer: b.peer, reason: 'timeout' });
    await expect(b.resume()).rejects.toMatchObject({ code: 'session-unknown' });
  });

  it('resume within the grace period replays what was sent meanwhile, on another transport', async () => {
    hub = await core.start({ graceMs: 5000 });
    const a = await joined(hub, 'replay');
    const b = await joined(hub, 'replay');
    clients.push(a, b);
    b.drop();
    for (let n = 0; n < 50; n++) a.send({ type: 'signal', to: b.peer, data: { n } });
    a.send({ type: 'broadcast', room: 'replay', data: 'while you were away' });
    await sleep(50);
    const w = await b.resume('sse');
    expect(w).toMatchObject({ resumed: true, rooms: ['replay'] });
    await b.next((f) => f.type === 'broadcast');
    expect(counters(b.received, a.peer)).toEqual([...Array(50).keys()]);
  });

  it('a vanished long-poll client is removed after the grace period', async () => {
    hub = await core.start({ graceMs: 300, pollHoldMs: 100 });
    const a = await joined(hub, 'vanish');
    const p = await joined(hub, 'vanish', { transport: 'poll' });
    clients.push(a);
    await a.next((f) => f.type === 'peer-joined');
    p.drop(); // stops polling, no bye
    await sleep(150);
    expect(a.received.some((f) => f.type === 'peer-left')).toBe(false);
    expect(await a.next<PeerLeftFrame>((f) => f.type === 'peer-left', 3000)).toMatchObject({ peer: p.peer, reason: 'timeout' });
  });

  it('a vanished SSE client is removed after the grace period', async () => {
    hub = await core.start({ graceMs: 300 });
    const a = await joined(hub, 'vanish-sse');
    const s = await joined(hub, 'vanish-sse', { transport: 'sse' });
    clients.push(a);
    await a.next((f) => f.type === 'peer-joined');
    s.drop();
    expect(await a.next<PeerLeftFrame>((f) => f.type === 'peer-left', 3000)).toMatchObject({ peer: s.peer, reason: 'timeout' });
  });

  it('a WebSocket that stops answering pings is dropped by the heartbeat', async () => {
    hub = await core.start({ heartbeatMs: 100, graceMs: 200 });
    const a = await joined(hub, 'hb');
    clients.push(a);
    // A raw socket that never answers pings: ws auto-pongs, so pause the underlying socket.
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/v1/ws`, { autoPong: false });
    await new Promise((r) => ws.on('open', r));
    ws.send(JSON.stringify({ type: 'hello' }));
    const welcome = await new Promise<{ peer: string }>((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))));
    ws.send(JSON.stringify({ type: 'join', room: 'hb' }));
    await a.next((f) => f.type === 'peer-joined' && f.peer === welcome.peer);
    const closed = new Promise((r) => ws.on('close', r));
    await closed;
    expect(await a.next<PeerLeftFrame>((f) => f.type === 'peer-left', 3000)).toMatchObject({ peer: welcome.peer, reason: 'timeout' });
  });
});
