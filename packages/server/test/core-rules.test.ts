/**
 * The memory core's frame rules without sockets (test/support/core.ts): the token-bucket
 * rate limit on a simulated clock, duplicate and out-of-order client ids, join / leave /
 * presence and the relay checks. limits.test.ts and session.test.ts test the same rules
 * end to end.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '@pinhole/protocol';
import type { HubOptions } from '../src/index.js';
import { makeCore } from './support/core.js';

describe('rate limit (token bucket per session)', () => {
  it('a burst passes, the next frame is rate-limited with its ref, and the bucket refills at the rate', async () => {
    const h = makeCore({ ratePerSecond: 10, rateBurst: 3 });
    const a = await h.connect();
    const ids = [1, 2, 3, 4].map(() => a.send({ type: 'ping' }));
    expect(a.down.loose.filter((f) => f.type === 'pong')).toHaveLength(3);
    expect(a.errorFor(ids[3]!)).toMatchObject({ code: 'rate-limited' });
    h.advance(99); // 0.99 of a token
    const early = a.send({ type: 'ping' });
    expect(a.errorFor(early)).toMatchObject({ code: 'rate-limited' });
    h.advance(1);
    const refilled = a.send({ type: 'ping' });
    expect(a.errorFor(refilled)).toBeUndefined();
    expect(a.down.loose.filter((f) => f.type === 'pong')).toHaveLength(4);
  });

  it('refills up to the burst, not beyond, however long the session was quiet', async () => {
    const h = makeCore({ ratePerSecond: 10, rateBurst: 3 });
    const a = await h.connect();
    h.advance(3_600_000);
    const ids = [1, 2, 3, 4].map(() => a.send({ type: 'ping' }));
    expect(ids.map((id) => a.errorFor(id)?.code)).toEqual([undefined, undefined, undefined, 'rate-limited']);
  });

  it('acks, retries of applied ids and refused frames cost no token', async () => {
    const h = makeCore({ ratePerSecond: 1, rateBurst: 2 });
    const a = await h.connect();
    const first = a.send({ type: 'ping' });
    for (let n = 0; n < 20; n++) a.send({ type: 'ack', seq: 0 });
    for (let n = 0; n < 20; n++) a.send({ type: 'ping', id: first });
    h.hub.reject(a.session, new ProtocolError('bad-frame', 'refused by validation', 50));
    const second = a.send({ type: 'ping' });
    expect(a.errorFor(second)).toBeUndefined();
    expect(a.errorFor(a.send({ type: 'ping' }))).toMatchObject({ code: 'rate-limited' });
  });

  it('the bucket belongs to the session: reconnecting does not refill it', async () => {
    const h = makeCore({ ratePerSecond: 1, rateBurst: 1 });
    const a = await h.connect();
    a.send({ type: 'ping' });
    a.drop();
    await a.resume();
    expect(a.errorFor(a.send({ type: 'ping' }))).toMatchObject({ code: 'rate-limited' });
  });

  it('ratePerSecond Infinity turns the limit off and is announced as 0', async () => {
    const h = makeCore({ ratePerSecond: Infinity });
    const a = await h.connect();
    for (let n = 0; n < 1000; n++) a.send({ type: 'ping' });
    expect(a.of('error')).toEqual([]);
    expect(a.welcome.limits.ratePerSecond).toBe(0);
  });
});

describe('client frame ids', () => {
  it('a frame resent under an applied id is ignored: a signal is relayed once', async () => {
    const h = makeCore();
    const a = await h.connect();
    const b = await h.connect();
    await a.join('r');
    await b.join('r');
    const id = a.send({ type: 'signal', to: b.peer, data: 'once' });
    a.send({ type: 'signal', to: b.peer, data: 'once', id });
    a.send({ type: 'signal', to: b.peer, data: 'once', id: 'str' });
    a.send({ type: 'signal', to: b.peer, data: 'once', id: 'str' });
    expect(b.of('signal')).toHaveLength(2);
  });

  it('lastId counts the contiguous ids applied; ids arriving out of order fill the gap', async () => {
    const h = makeCore();
    const a = await h.connect();
    a.send({ type: 'ping', id: 1 });
    a.send({ type: 'ping', id: 3 });
    expect(a.session.lastId).toBe(1);
    a.send({ type: 'ping', id: 2 });
    expect(a.session.lastId).toBe(3);
    a.send({ type: 'ping', id: 3 }); // a retry, after the gap closed
    expect(a.down.loose.filter((f) => f.type === 'pong')).toHaveLength(3);
  });

  it('a refused frame consumes its id: its retry is ignored, not answered twice', async () => {
    const h = makeCore();
    const a = await h.connect();
    const id = await a.apply({ type: 'leave', room: 'not-joined' });
    await a.apply({ type: 'leave', room: 'not-joined', id });
    expect(a.of('error')).toEqual([expect.objectContaining({ code: 'not-in-room', ref: id })]);
    expect(a.session.lastId).toBe(id);
  });

  it('a resume reports lastId, so the client resends only what the hub had not applied', async () => {
    const h = makeCore();
    const a = await h.connect();
    for (let n = 0; n < 5; n++) a.send({ type: 'ping' });
    a.drop();
    expect(await a.resume()).toMatchObject({ lastId: 5 });
  });

  it('two sessions are two id spaces', async () => {
    const h = makeCore();
    const a = await h.connect();
    const b = await h.connect();
    a.send({ type: 'ping', id: 1 });
    b.send({ type: 'ping', id: 1 });
    expect(a.down.loose).toHaveLength(1);
    expect(b.down.loose).toHaveLength(1);
  });
});

describe('rooms and presence', () => {
  it('join: the joiner gets the members present, they get peer-joined with its meta', async () => {
    const h = makeCore();
    const a = await h.connect();
    const b = await h.connect();
    expect((await a.join('r', { name: 'Ann' })).peers).toEqual([]);
    expect((await b.join('r', { name: 'Bob' })).peers).toEqual([{ peer: a.peer, meta: { name: 'Ann' } }]);
    expect(a.of('peer-joined')).toEqual([expect.objectContaining({ room: 'r', peer: b.peer, meta: { name: 'Bob' } })]);
    expect(await h.hub.roomPeers('r')).toHaveLength(2);
  });

  it('joining a room again answers again and tells nobody', async () => {
    const h = makeCore();
    const a = await h.connect();
    const b = await h.connect();
    await a.join('r');
    await b.join('r');
    expect((await b.join('r')).peers).toEqual([{ peer: a.peer, meta: {} }]);
    expect(a.of('peer-joined')).toHaveLength(1);
  });

  it('leave: left for the leaver, peer-left leave for the others; then signals to it fail unknown-peer', async () => {
    const h = makeCore();
    const a = await h.connect();
    const b = await h.connect();
    await a.join('r');
    await b.join('r');
    const id = await b.apply({ type: 'leave', room: 'r' });
    expect(b.of('left')).toEqual([expect.objectContaining({ room: 'r', ref: id })]);
    expect(a.of('peer-left')).toEqual([expect.objectContaining({ peer: b.peer, reason: 'leave' })]);
    const signal = a.send({ type: 'signal', to: b.peer, data: 1 });
    expect(a.errorFor(signal)).toMatchObject({ code: 'unknown-peer' });
  });

  it('bye ends the session at once: peer-left leave, no grace period', async () => {
    const h = makeCore();
    const a = await h.connect();
    const b = await h.connect();
    await a.join('r');
    await b.join('r');
    await b.apply({ type: 'bye' });
    expect(a.of('peer-left')).toEqual([expect.objectContaining({ peer: b.peer, reason: 'leave' })]);
    expect(b.down.closed).toBeDefined();
    await expect(b.resume()).rejects.toMatchObject({ code: 'session-unknown' });
  });

  it.each([
    ['room-full past maxPeersPerRoom', { maxPeersPerRoom: 1 }, ['r1'], 'room-full'],
    ['too-many-rooms past maxRoomsPerSession', { maxRoomsPerSession: 1 }, ['r2', 'r1'], 'too-many-rooms'],
    ['too-large past maxMetaBytes', { maxMetaBytes: 10 }, ['r1'], 'too-large'],
  ])('join refused: %s', async (_name, options: HubOptions, rooms, code) => {
    const h = makeCore(options);
    const a = await h.connect();
    const b = await h.connect();
    await a.join('r1');
    for (const room of rooms.slice(0, -1)) await b.join(room);
    const id = await b.apply({ type: 'join', room: rooms.at(-1)!, meta: { name: 'over ten bytes' } });
    expect(b.errorFor(id)).toMatchObject({ code, ref: id });
    expect(a.of('peer-joined')).toEqual([]);
    expect(await h.hub.roomPeers('r1')).toEqual([{ peer: a.peer, meta: {} }]);
  });

  it('signal and broadcast need a shared room; broadcast reaches every other member', async () => {
    const h = makeCore();
    const [a, b, c, d] = await Promise.all([h.connect(), h.connect(), h.connect(), h.connect()]);
    for (const x of [a!, b!, c!]) await x.join('r');
    await d!.join('elsewhere');
    expect(a!.errorFor(a!.send({ type: 'signal', to: d!.peer, data: 1 }))).toMatchObject({ code: 'unknown-peer' });
    expect(a!.errorFor(a!.send({ type: 'broadcast', room: 'elsewhere', data: 1 }))).toMatchObject({ code: 'not-in-room' });
    a!.send({ type: 'broadcast', room: 'r', data: 'all' });
    expect([a!, b!, c!, d!].map((x) => x.of('broadcast').length)).toEqual([0, 1, 1, 0]);
    a!.send({ type: 'signal', to: c!.peer, data: 'you' });
    expect(c!.of('signal')).toEqual([expect.objectContaining({ from: a!.peer, data: 'you' })]);
  });

  it('frames after a join wait for it: a signal sent right behind the join is applied after it', async () => {
    const h = makeCore();
    const a = await h.connect();
    const b = await h.connect();
    await b.join('r');
    a.send({ type: 'join', room: 'r' }); // async: not applied yet
    const signal = a.send({ type: 'signal', to: b.peer, data: 'after join' });
    await h.hub.settled(a.session);
    expect(a.errorFor(signal)).toBeUndefined();
    expect(b.of('signal')).toEqual([expect.objectContaining({ data: 'after join' })]);
  });

  it('REST relay: a message id is delivered once per room', async () => {
    const h = makeCore();
    const a = await h.connect();
    await a.join('r');
    expect(await h.hub.relay('r', a.peer, { n: 1 }, 'm1')).toEqual({ delivered: 1 });
    expect(await h.hub.relay('r', a.peer, { n: 1 }, 'm1')).toEqual({ delivered: 0, duplicate: true });
    expect(a.of('signal')).toEqual([expect.objectContaining({ from: '@server', room: 'r', data: { n: 1 } })]);
  });
});
