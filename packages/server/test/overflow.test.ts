/**
 * What a session's client hears when its session overflows while no connection is
 * attached (a long-poll between two polls), and acks of frames never sent. Both cores:
 * memory, and a node on a real Redis.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerLeftFrame, ServerFrame } from '@pinhole/protocol';
import type { HubOptions, RunningHub } from '../src/index.js';
import { TestClient } from './support/client.js';
import { joined, testCores, type TestCore } from './support/hub.js';
import { HttpSession } from './support/stalled.js';

let hub: RunningHub | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await hub?.close();
  hub = undefined;
});

async function start(core: TestCore, options: HubOptions): Promise<RunningHub> {
  hub = await core.start({ ratePerSecond: Infinity, pollHoldMs: 1000, ...options });
  return hub;
}

/** A poll of `session` after `ack`: its status and body. */
async function poll(session: HttpSession, ack: number): Promise<{ status: number; body: ServerFrame[] | ServerFrame }> {
  const res = await fetch(`${session.base}/v1/poll?${session.query}&ack=${ack}`);
  return { status: res.status, body: (await res.json()) as ServerFrame[] | ServerFrame };
}

async function errorsTotal(code: string): Promise<number> {
  const text = await (await fetch(`${hub!.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('pinhole_errors_total{') && l.includes(`code="${code}"`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe.each(testCores())('$name core', (core) => {
  it('a long-poll session that overflows between two polls: the next poll is answered with the overflow error (not 404), and it is counted', async () => {
    const h = await start(core, { maxReplayFrames: 20 });
    const sender = await joined(h, 'flood');
    clients.push(sender);
    const receiver = await HttpSession.open(h.url);
    await receiver.send({ type: 'join', room: 'flood' });
    const first = await poll(receiver, 0);
    expect(first.body).toEqual([expect.objectContaining({ type: 'joined', seq: 1 })]);
    // No poll is held now: 25 frames overflow the 20-frame replay buffer meanwhile.
    for (let n = 0; n < 25; n++) sender.send({ type: 'signal', to: receiver.peer, data: n });
    await sender.next((f) => f.type === 'peer-left' && f.peer === receiver.peer);

    const next = await poll(receiver, 1);
    expect(next.status).toBe(200);
    expect(next.body).toEqual([expect.objectContaining({ type: 'error', code: 'overflow' })]);
    expect((next.body as ServerFrame[])[0]).not.toHaveProperty('seq');
    expect(await errorsTotal('overflow')).toBe(1);
    // The other ways to name the session say the same; a resume is refused as for any ended session (§4.2).
    const sse = await fetch(`${h.url}/v1/sse?${receiver.query}`);
    expect(sse.status).toBe(200);
    expect(await sse.text()).toMatch(/^data: \{"type":"error","code":"overflow",/);
    expect(await receiver.send({ type: 'ping' })).toMatchObject({ code: 'overflow' });
    expect(await errorsTotal('overflow')).toBe(3);
    const resume = await fetch(`${h.url}/v1/send`, {
      method: 'POST',
      body: JSON.stringify({ type: 'hello', resume: { session: receiver.welcome.session, key: receiver.welcome.key, lastSeq: 1 } }),
    });
    expect(resume.status).toBe(404);
    // Only the session's key hears it: another key gets what it always got.
    const stranger = await fetch(`${h.url}/v1/poll?session=${encodeURIComponent(receiver.welcome.session)}&key=wrong&ack=0`);
    expect(stranger.status).toBe(404);
  });

  it('long-poll answers left unread past maxWriteBufferBytes end the session with overflow', async () => {
    // A replay bound high enough that only the write bound can end the session.
    const h = await start(core, { maxReplayFrames: 100_000, maxReplayBytes: 64 * 1024 * 1024, maxWriteBufferBytes: 1024 * 1024 });
    const sender = await joined(h, 'unread');
    clients.push(sender);
    expect(sender.welcome!.limits.maxWriteBufferBytes).toBe(1024 * 1024); // announced in welcome.limits (§3.3)
    const receiver = await HttpSession.open(h.url);
    await receiver.send({ type: 'join', room: 'unread' });
    expect((await poll(receiver, 0)).body).toEqual([expect.objectContaining({ type: 'joined', seq: 1 })]);
    // ~6.5 MB wait for the next poll: more than the kernel's buffers take (~4 MB) on loopback.
    const data = 'x'.repeat(32 * 1024);
    for (let n = 0; n < 200; n++) sender.send({ type: 'broadcast', room: 'unread', data });
    await sender.send({ type: 'ping' });
    await sender.next((f) => f.type === 'pong');
    await receiver.send({ type: 'ping' }); // (its pong waits in the replay buffer too: frames are applied in order)
    const unread = await receiver.unread('poll', '&ack=1');
    try {
      expect(await sender.next<PeerLeftFrame>((f) => f.type === 'peer-left', 10_000)).toMatchObject({ peer: receiver.peer, reason: 'closed' });
      expect((await poll(receiver, 1)).body).toEqual([expect.objectContaining({ type: 'error', code: 'overflow' })]);
    } finally {
      unread.res.destroy();
    }
  });

  it('an ack beyond the frames sent so far is clamped: frames that came while no poll was held are still delivered', async () => {
    const h = await start(core, {});
    const sender = await joined(h, 'clamp');
    clients.push(sender);
    const receiver = await HttpSession.open(h.url);
    await receiver.send({ type: 'join', room: 'clamp' });
    expect((await poll(receiver, 0)).body).toEqual([expect.objectContaining({ type: 'joined', seq: 1 })]);
    for (let n = 0; n < 3; n++) sender.send({ type: 'signal', to: receiver.peer, data: n });
    await sender.send({ type: 'ping' });
    await sender.next((f) => f.type === 'pong');
    // The receiver acks what it never received (2^53 - 1), between two polls.
    expect(await receiver.send({ type: 'ack', seq: Number.MAX_SAFE_INTEGER })).toMatchObject({ ok: true, seq: 4 });
    const next = await poll(receiver, 1);
    expect((next.body as ServerFrame[]).map((f) => [f.type, (f as { seq?: number }).seq])).toEqual([
      ['signal', 2],
      ['signal', 3],
      ['signal', 4],
    ]);
  });
});
