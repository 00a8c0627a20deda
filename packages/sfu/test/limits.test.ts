/**
 * The SFU's limits (SfuLimits) with real node-datachannel publishers, subscriber sessions and
 * viewers on the default engine: a newcomer over a limit is refused with `over-capacity`
 * naming the limit and its value, everyone already in keeps their media, and the slot frees
 * when someone leaves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Capacity, DEFAULT_LIMITS, Sfu, SfuError, type SfuLimits } from '../src/index.js';
import { rtp, vp8Key } from '@pinhole/test-kit/rtp';
import { publishingPeer, viewingPeer } from '@pinhole/test-kit/media-peer';
import { until } from '@pinhole/test-kit/wait';
import { testSubscriber, type TestSubscriber } from './support/session.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function sfuWith(limits: Partial<SfuLimits>): Sfu {
  const sfu = new Sfu({ limits });
  cleanups.push(() => sfu.close());
  return sfu;
}

/** `peer` publishes one VP8 track in `room` and keeps sending until the test ends. */
async function publish(sfu: Sfu, room: string, peer: string, ssrc = 0x1000): Promise<void> {
  const publisher = await publishingPeer(ssrc);
  cleanups.push(() => publisher.close());
  await publisher.accept(await sfu.room(room).publish(peer, publisher.offer));
  let seq = 0;
  const timer = setInterval(() => publisher.send(rtp({ ssrc, seq: seq++, ts: seq * 3000, payload: vp8Key() })), 10);
  cleanups.push(() => clearInterval(timer));
}

async function subscribe(sfu: Sfu, room: string, name: string, publisher: string): Promise<TestSubscriber> {
  const sub = testSubscriber(sfu.room(room), name);
  cleanups.push(() => sub.peer.close());
  await sfu.room(room).subscribe(name, publisher, sub.signals);
  return sub;
}

const total = (received: Map<number, number>): number => [...received.values()].reduce((a, b) => a + b, 0);

/** Packets keep arriving at `sub` (it was not disturbed). */
async function stillFlowing(received: Map<number, number>, what: string): Promise<void> {
  const before = total(received);
  await until(() => total(received) > before + 10, 10_000, `media still flowing to ${what}`);
}

async function refusal(work: Promise<unknown>): Promise<SfuError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SfuError);
  expect((err as SfuError).code).toBe('over-capacity');
  return err as SfuError;
}

describe('SFU limits', () => {
  it('publishersPerRoom: the third publisher is refused, the others keep flowing, and it gets in once one leaves', async () => {
    const sfu = sfuWith({ publishersPerRoom: 2 });
    await publish(sfu, 'r', 'alice', 0x1001);
    await publish(sfu, 'r', 'bob', 0x1002);
    const dave = await subscribe(sfu, 'r', 'dave', 'alice');
    await until(() => total(dave.peer.received) > 0, 10_000, 'media at dave');

    const carol = await publishingPeer(0x1003);
    cleanups.push(() => carol.close());
    const err = await refusal(sfu.room('r').publish('carol', carol.offer));
    expect(err.message).toContain('publishersPerRoom 2');
    expect(sfu.room('r').publisherCount()).toBe(2);
    expect(sfu.engine.counts().publishers).toBe(2);
    await stillFlowing(dave.peer.received, 'dave');

    sfu.leave('r', 'bob');
    await carol.accept(await sfu.room('r').publish('carol', carol.offer));
    expect(sfu.room('r').published().map((p) => p.publisher).sort()).toEqual(['alice', 'carol']);
  });

  it('subscribersPerRoom counts sessions and viewers: the fourth is refused (session or viewer), a slot frees when a viewer goes', async () => {
    const sfu = sfuWith({ subscribersPerRoom: 3 });
    await publish(sfu, 'r', 'alice');
    const room = sfu.room('r');
    const s1 = await subscribe(sfu, 'r', 's1', 'alice');
    await subscribe(sfu, 'r', 's2', 'alice');
    const viewer = await viewingPeer();
    cleanups.push(() => viewer.close());
    viewer.accept(await room.view('v1', 'alice', viewer.offer));
    expect(room.subscriberCount()).toBe(3);

    const s3 = testSubscriber(room, 's3');
    cleanups.push(() => s3.peer.close());
    expect((await refusal(room.subscribe('s3', 'alice', s3.signals))).message).toContain('subscribersPerRoom 3');
    const v2 = await viewingPeer();
    cleanups.push(() => v2.close());
    expect((await refusal(room.view('v2', 'alice', v2.offer))).message).toContain('subscribersPerRoom 3');
    expect(room.sessionCount()).toBe(2);
    expect(room.viewerCount()).toBe(1);
    await stillFlowing(s1.peer.received, 's1');
    await stillFlowing(viewer.received, 'v1');

    sfu.leave('r', 'v1');
    await room.subscribe('s3', 'alice', s3.signals);
    await until(() => total(s3.peer.received) > 0, 10_000, 'media at s3');
    // A member that has a session may subscribe to more publishers: it is no new subscriber.
    expect(room.subscriberCount()).toBe(3);
  });

  it('rooms: a second room is refused while the first is in use, and served once it is empty', async () => {
    const sfu = sfuWith({ rooms: 1 });
    await publish(sfu, 'one', 'alice');
    const bob = await publishingPeer(0x2000);
    cleanups.push(() => bob.close());
    expect((await refusal(sfu.room('two').publish('bob', bob.offer))).message).toContain('rooms 1');
    // More in the room already served is fine.
    await subscribe(sfu, 'one', 'carol', 'alice');
    sfu.leave('one', 'alice');
    sfu.leave('one', 'carol');
    await bob.accept(await sfu.room('two').publish('bob', bob.offer));
    expect(sfu.counts().rooms).toBe(1);
  });

  it('forwardedStreams counts every track sent to a session or viewer, over all rooms', async () => {
    const sfu = sfuWith({ forwardedStreams: 2 });
    await publish(sfu, 'r', 'alice');
    const s1 = await subscribe(sfu, 'r', 's1', 'alice');
    const viewer = await viewingPeer();
    cleanups.push(() => viewer.close());
    viewer.accept(await sfu.room('r').view('v1', 'alice', viewer.offer));
    expect(sfu.room('r').forwardedStreams()).toBe(2);
    const s2 = testSubscriber(sfu.room('r'), 's2');
    cleanups.push(() => s2.peer.close());
    expect((await refusal(sfu.room('r').subscribe('s2', 'alice', s2.signals))).message).toContain('forwardedStreams 2');
    await stillFlowing(s1.peer.received, 's1');
    sfu.leave('r', 's1');
    await sfu.room('r').subscribe('s2', 'alice', s2.signals);
    await until(() => total(s2.peer.received) > 0, 10_000, 'media at s2');
  });

  it('defaults, and limits below 1 are refused', () => {
    expect(new Capacity({}, () => []).limits).toEqual(DEFAULT_LIMITS);
    expect(new Capacity({ rooms: Infinity }, () => []).limits.rooms).toBe(Infinity);
    expect(() => new Capacity({ forwardedStreams: 0 }, () => [])).toThrow(RangeError);
  });
});
