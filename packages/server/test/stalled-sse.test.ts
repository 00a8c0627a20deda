/**
 * SSE streams that end while their client is not reading (a stalled network, or on
 * purpose): by `bye`, by a resume on another connection, by overflow. The response has
 * ended but its bytes still wait in the hub's buffers; the hub's heartbeat must not write
 * to it (that was `ERR_STREAM_WRITE_AFTER_END`, unhandled: the process exited), and the
 * stalled stream must not be kept forever. Real hub processes, on both cores.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestClient } from './support/client.js';
import { HubProcess } from './support/hub-process.js';
import { TestRedis } from '@pinhole/test-kit/redis';
import { HttpSession, type Unread } from './support/stalled.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(ok: () => Promise<boolean>, ms = 15_000): Promise<void> {
  for (const deadline = Date.now() + ms; !(await ok()); await sleep(100)) {
    if (Date.now() > deadline) throw new Error('timed out');
  }
}
/** A 32 KiB broadcast payload. */
const PAYLOAD = 'x'.repeat(32 * 1024);
/**
 * A loopback connection's kernel buffers take about 4 MB of unread bytes here; past that
 * they wait in the hub's own buffers, which is where the bug was. 160 × 32 KiB ≈ 5.2 MB.
 */
const PAST_THE_KERNEL = 160;

let redis: TestRedis | undefined;
afterAll(async () => {
  await redis?.stop();
});

describe.each(['memory', 'redis'] as const)('%s core', (core) => {
  let hub: HubProcess;
  let feeder: TestClient;

  // Per test, so that a retry starts with a fresh hub.
  beforeEach(async () => {
    if (core === 'redis') {
      // An empty Redis each time: a retry must not meet the sessions of the failed try.
      await redis?.stop();
      if (redis) await redis.restart();
      else redis = await TestRedis.start();
    }
    hub = await HubProcess.start({ ...(core === 'redis' ? { redis: redis!.url, nodeId: 'stalled' } : {}), args: ['--heartbeat', '500ms'] });
    feeder = new TestClient(hub.url);
    await feeder.connect();
  }, 60_000);
  afterEach(async () => {
    await feeder?.close();
    if (hub && !hub.alive) console.error(`the hub exited:\n${hub.output}`);
    await hub?.stop();
  });

  /** Open SSE streams, from the hub's /metrics (a cluster node adds a `node` label). */
  async function sseConnections(): Promise<number | undefined> {
    const text = await (await fetch(`${hub.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('pinhole_connections{') && l.includes('transport="sse"'));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  }

  /** A session on SSE in `room` whose stream is never read. */
  async function stalled(room: string): Promise<{ session: HttpSession; stream: Unread }> {
    const session = await HttpSession.open(hub.url);
    await session.send({ type: 'join', room });
    const stream = await session.unread('sse');
    return { session, stream };
  }

  /**
   * The feeder broadcasts `n` 32 KiB frames to `room`, 32 at a time (1 MiB: the replay
   * buffer holds 4). The stalled member acks each batch once sent (not read), or not.
   */
  async function fill(session: HttpSession, room: string, n: number, ack: boolean): Promise<void> {
    let seq = (await session.send({ type: 'ping' })).seq!;
    for (let sent = 0; sent < n; sent += 32) {
      const target = seq + Math.min(32, n - sent);
      for (let i = seq; i < target; i++) feeder.send({ type: 'broadcast', room, data: PAYLOAD });
      while (seq < target) {
        await sleep(20);
        const reply = await session.send(ack ? { type: 'ack', seq } : { type: 'ping' });
        if (reply.code !== undefined) return; // the session ended (overflow): nothing more will come
        seq = reply.seq!;
      }
    }
  }

  it('a stalled stream ended by bye, by a resume elsewhere, or by overflow: the process lives on, /healthz answers, the streams are let go', async () => {
    for (const room of ['bye', 'moved', 'over']) feeder.send({ type: 'join', room });
    await feeder.next((f) => f.type === 'joined' && f.room === 'over');
    const [bye, moved, over] = await Promise.all([stalled('bye'), stalled('moved'), stalled('over')]);

    await Promise.all([fill(bye.session, 'bye', PAST_THE_KERNEL, true), fill(moved.session, 'moved', PAST_THE_KERNEL, true)]);
    await bye.session.send({ type: 'bye' });
    const elsewhere = await moved.session.unread('sse', `&lastSeq=${(await moved.session.send({ type: 'ping' })).seq! - 1}`);
    // Acked up to past the kernel's share, then not acked until the replay buffer (4 MiB) overflows.
    await fill(over.session, 'over', PAST_THE_KERNEL, true);
    await fill(over.session, 'over', 140, false);
    expect(await over.session.send({ type: 'ping' })).toMatchObject({ code: 'overflow' });

    // Heartbeats come every 500 ms: a few of them (3.5 intervals) pass over the ended streams.
    await sleep(1750);
    expect(hub.alive).toBe(true);
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
    // The ended streams are let go (after a heartbeat's time to drain), not kept for as long
    // as their clients like: only the stream that took over the moved session stays open.
    await until(async () => (await sseConnections()) === 1);
    for (const s of [bye, moved, over]) s.stream.res.destroy();
    elsewhere.res.destroy();
  }, 60_000);
});
