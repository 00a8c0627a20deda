/**
 * The memory core's session rules without sockets (test/support/core.ts): resume within
 * and after the grace period, replay, replay-buffer overflow, ack clamping, token expiry
 * on resume. Time is simulated: a 30 s grace period costs nothing. The same rules are
 * tested end to end, over real connections, in resume.test.ts and overflow.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError, type ServerFrame } from '@pinhole/protocol';
import { DEFAULT_GRACE_MS, DEFAULT_MAX_REPLAY_BYTES, mintToken } from '../src/index.js';
import { makeCore, T0 } from './support/core.js';

const signals = (frames: ServerFrame[]): unknown[] => frames.flatMap((f) => (f.type === 'signal' ? [f.data] : []));
const seqOf = (f: ServerFrame | undefined): number | undefined => (f && 'seq' in f ? f.seq : undefined);

describe('grace period and resume', () => {
  it('a session resumed a moment before the grace period ends keeps its peer id, rooms and presence', async () => {
    const h = makeCore();
    const a = await h.connect();
    const b = await h.connect();
    await a.join('r');
    await b.join('r');
    b.drop();
    h.advance(DEFAULT_GRACE_MS - 1);
    const welcome = await b.resume();
    expect(welcome).toMatchObject({ resumed: true, peer: b.peer, rooms: ['r'] });
    expect(a.of('peer-left')).toEqual([]);
    // Still a member: signals reach it on its new connection.
    a.send({ type: 'signal', to: b.peer, room: 'r', data: 'still here' });
    expect(signals(b.down.frames)).toEqual(['still here']);
  });

  it('past the grace period the session ends: room-mates see peer-left timeout, a resume gets session-unknown', async () => {
    const h = makeCore({ graceMs: 2000 });
    const a = await h.connect();
    const b = await h.connect();
    await a.join('r');
    await b.join('r');
    b.drop();
    h.advance(1999);
    expect(a.of('peer-left')).toEqual([]);
    h.advance(1);
    await h.hub.settled(b.session);
    expect(a.of('peer-left')).toEqual([expect.objectContaining({ room: 'r', peer: b.peer, reason: 'timeout' })]);
    await expect(b.resume()).rejects.toMatchObject({ code: 'session-unknown' });
    expect(h.hub.stats().sessions).toBe(1);
  });

  it('an attached session never times out, however long it is quiet', async () => {
    const h = makeCore({ graceMs: 1000 });
    const a = await h.connect();
    h.advance(3_600_000);
    expect(a.session.ended).toBe(false);
    expect(h.hub.authenticate(a.session.id, a.session.key)).toBe(a.session);
  });

  it('the grace period restarts from the latest detach, not the first', async () => {
    const h = makeCore({ graceMs: 1000 });
    const a = await h.connect();
    a.drop();
    h.advance(900);
    await a.resume();
    a.drop();
    h.advance(900); // 1800 ms after the first detach, 900 after the last
    await expect(a.resume()).resolves.toMatchObject({ resumed: true });
  });

  it.each([
    ['a wrong key', { key: 'not-the-key' }, 'unauthorized'],
    ['lastSeq ahead of the session', { lastSeq: 99 }, 'bad-frame'],
    ['an unknown session', { session: 'no-such-session' }, 'session-unknown'],
  ])('a resume with %s is refused (%s)', async (_name, change, code) => {
    const h = makeCore();
    const a = await h.connect();
    a.drop();
    const resume = { session: a.session.id, key: a.session.key, lastSeq: 0, ...change };
    const err = await h.hub.hello({ type: 'hello', resume }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toMatchObject({ code });
  });

  it('a session whose token expired meanwhile resumes only with a fresh token of the same identity', async () => {
    const secret = 'core-test-secret';
    const h = makeCore({ secret, graceMs: 3_600_000 });
    const a = await h.connect({ token: await mintToken(secret, { identity: 'ann' }, 60, T0) });
    a.drop();
    h.advance(61_000);
    await expect(a.resume()).rejects.toMatchObject({ code: 'token-expired' });
    await expect(a.resume(0, { token: await mintToken(secret, { identity: 'bob' }, 60, h.now()) })).rejects.toMatchObject({ code: 'forbidden' });
    const welcome = await a.resume(0, { token: await mintToken(secret, { identity: 'ann' }, 60, h.now()) });
    expect(welcome).toMatchObject({ resumed: true, identity: 'ann' });
  });

  it('a second connection resuming the session replaces the first, which is closed with replaced', async () => {
    const h = makeCore();
    const a = await h.connect();
    const first = a.down;
    await a.resume(); // no drop: the client thinks its connection is dead, the hub does not
    expect(first.closed).toMatchObject({ code: 'replaced' });
    expect(a.session.downstream).toBe(a.down);
  });
});

describe('replay', () => {
  it('frames sent while detached are replayed on resume, in order, after the last seq the client saw', async () => {
    const h = makeCore();
    const a = await h.connect();
    const b = await h.connect();
    await a.join('r');
    await b.join('r');
    const before = b.lastSeq;
    b.drop();
    for (let n = 0; n < 5; n++) a.send({ type: 'signal', to: b.peer, data: n });
    expect(seqOf(b.down.frames.at(-1))).toBe(before); // nothing written while detached
    await b.resume();
    expect(signals(b.down.frames)).toEqual([0, 1, 2, 3, 4]);
    expect(b.down.frames.map(seqOf)).toEqual([before + 1, before + 2, before + 3, before + 4, before + 5]);
  });

  it('a resume replays only what lastSeq does not cover, and acknowledges the rest', async () => {
    const h = makeCore();
    const a = await h.connect();
    const b = await h.connect();
    await a.join('r');
    await b.join('r');
    for (let n = 0; n < 4; n++) a.send({ type: 'signal', to: b.peer, data: n });
    const seqs = b.down.frames.filter((f) => f.type === 'signal').map(seqOf);
    b.drop();
    await b.resume(seqs[1]!); // saw the first two signals
    expect(signals(b.down.frames)).toEqual([2, 3]);
    expect(b.session.unacked).toBe(2);
  });

  it('acked frames are gone from the replay buffer: a resume from an older seq does not bring them back', async () => {
    const h = makeCore();
    const a = await h.connect();
    const b = await h.connect();
    await a.join('r');
    await b.join('r');
    for (let n = 0; n < 3; n++) a.send({ type: 'signal', to: b.peer, data: n });
    b.send({ type: 'ack', seq: b.lastSeq });
    expect(b.session.unacked).toBe(0);
    b.drop();
    await b.resume(0);
    expect(b.down.frames).toEqual([]);
  });
});

describe('acks', () => {
  it('an ack beyond the highest seq sent is clamped to it: frames numbered meanwhile are kept for replay', async () => {
    const h = makeCore();
    const a = await h.connect();
    const b = await h.connect();
    await a.join('r');
    await b.join('r');
    const sent = b.lastSeq;
    b.drop();
    a.send({ type: 'signal', to: b.peer, data: 'unseen' });
    // Sent over HTTP while no stream is attached: the ack names a seq the client cannot have seen.
    b.send({ type: 'ack', seq: sent + 1 });
    expect(b.session.unacked).toBe(1);
    await b.resume(sent);
    expect(signals(b.down.frames)).toEqual(['unseen']);
  });

  it('an ack riding on another frame counts like an ack frame, and a far-future one empties only what was sent', async () => {
    const h = makeCore();
    const a = await h.connect();
    const b = await h.connect();
    await a.join('r');
    await b.join('r');
    a.send({ type: 'signal', to: b.peer, data: 1 });
    b.send({ type: 'ping', ack: 1_000_000 });
    expect(b.session.unacked).toBe(0);
    b.drop();
    a.send({ type: 'signal', to: b.peer, data: 2 });
    expect(b.session.unacked).toBe(1);
  });
});

describe('replay-buffer overflow', () => {
  it('past maxReplayFrames the session ends: its connection is closed with overflow, room-mates see peer-left closed', async () => {
    const h = makeCore({ maxReplayFrames: 5, ratePerSecond: Infinity });
    const a = await h.connect();
    const b = await h.connect();
    await a.join('r');
    await b.join('r'); // b's buffer: joined (1)
    for (let n = 0; n < 4; n++) a.send({ type: 'signal', to: b.peer, data: n }); // 5: at the bound
    expect(b.session.ended).toBe(false);
    a.send({ type: 'signal', to: b.peer, data: 'one too many' });
    await h.hub.settled(b.session);
    expect(b.session.ended).toBe(true);
    expect(b.down.closed).toMatchObject({ code: 'overflow' });
    expect(signals(b.down.frames)).toEqual([0, 1, 2, 3]); // the frame past the bound is never written
    await Promise.resolve(); // the room leave runs on
    expect(a.of('peer-left')).toEqual([expect.objectContaining({ peer: b.peer, reason: 'closed' })]);
  });

  it('past maxReplayBytes the session ends too, however few the frames', async () => {
    const h = makeCore({ maxReplayBytes: 1024 });
    const a = await h.connect();
    const b = await h.connect();
    await a.join('r');
    await b.join('r');
    a.send({ type: 'signal', to: b.peer, data: 'x'.repeat(600) });
    expect(b.session.ended).toBe(false);
    a.send({ type: 'signal', to: b.peer, data: 'x'.repeat(600) });
    expect(b.session.ended).toBe(true);
  });

  it('a session that overflowed while detached is told overflow (not session-unknown) until its grace period ends', async () => {
    const h = makeCore({ maxReplayFrames: 3, graceMs: 5000 });
    const a = await h.connect();
    const b = await h.connect();
    await a.join('r');
    await b.join('r');
    b.drop();
    for (let n = 0; n < 3; n++) a.send({ type: 'signal', to: b.peer, data: n });
    expect(b.session.ended).toBe(true);
    const { id, key } = b.session;
    expect(() => h.hub.authenticate(id, key)).toThrow(expect.objectContaining({ code: 'overflow' }));
    expect(() => h.hub.authenticate(id, 'wrong')).toThrow(expect.objectContaining({ code: 'session-unknown' }));
    h.advance(5000);
    expect(() => h.hub.authenticate(id, key)).toThrow(expect.objectContaining({ code: 'session-unknown' }));
  });

  it('acking keeps a busy session under the bound indefinitely', async () => {
    const h = makeCore({ maxReplayFrames: 4, ratePerSecond: Infinity });
    const a = await h.connect();
    const b = await h.connect();
    await a.join('r');
    await b.join('r');
    for (let n = 0; n < 100; n++) {
      a.send({ type: 'signal', to: b.peer, data: n });
      if (n % 2 === 1) b.send({ type: 'ack', seq: b.lastSeq });
    }
    expect(b.session.ended).toBe(false);
    expect(signals(b.down.frames)).toHaveLength(100);
  });

  it('a write-bound overflow reported by a transport ends the session the same way', async () => {
    const h = makeCore();
    const a = await h.connect();
    const b = await h.connect();
    await a.join('r');
    await b.join('r');
    h.hub.overflow(b.session);
    await h.hub.settled(b.session);
    await Promise.resolve();
    expect(b.down.closed).toMatchObject({ code: 'overflow' });
    expect(a.of('peer-left')).toEqual([expect.objectContaining({ peer: b.peer, reason: 'closed' })]);
    expect(() => h.hub.authenticate(b.session.id, b.session.key)).toThrow(expect.objectContaining({ code: 'overflow' }));
  });
});

describe('welcome', () => {
  it.each([
    ['by default, 2 × the default replay bound', {}, 2 * DEFAULT_MAX_REPLAY_BYTES],
    ['following maxReplayBytes when unset', { maxReplayBytes: 1000 }, 2000],
    ['as set', { maxReplayBytes: 1000, maxWriteBufferBytes: 5000 }, 5000],
  ])('announces maxWriteBufferBytes %s', async (_name, options, want) => {
    const a = await makeCore(options).connect();
    expect(a.welcome.limits.maxWriteBufferBytes).toBe(want);
  });
});
