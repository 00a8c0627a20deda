/**
 * Over a limit through the hub (docs/protocol/sfu.md §15.2): the member over it gets
 * `pinhole:sfu-error` `over-capacity` naming the limit, the publisher already in is not
 * disturbed, and once it leaves the refused member's publish is answered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { publishingPeer } from '@pinhole/test-kit/media-peer';
import { until } from '@pinhole/test-kit/wait';
import { hubWithSfu, sfuMember } from './support/hub.js';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
const push = (fn: () => Promise<unknown> | unknown): void => void cleanup.push(fn);

describe('SfuService over capacity', () => {
  it('a publish over publishersPerRoom gets over-capacity (to that member only); it is answered after the publisher leaves', async () => {
    const { hub, sfu } = await hubWithSfu(push, { limits: { publishersPerRoom: 1 } });
    const alice = await sfuMember(hub.url, 'call', push);
    const bob = await sfuMember(hub.url, 'call', push);
    await until(() => alice.sfu() !== undefined && bob.sfu() !== undefined, 10_000, 'the SFU in the room');
    const [pa, pb] = [await publishingPeer(0x1111), await publishingPeer(0x2222)];
    push(() => pa.close());
    push(() => pb.close());

    alice.signaler.signal(alice.sfu()!, { type: 'pinhole:sfu-publish', sdp: pa.offer }, 'call');
    await until(() => alice.of('pinhole:sfu-answer').length === 1, 10_000, "alice's answer");
    bob.signaler.signal(bob.sfu()!, { type: 'pinhole:sfu-publish', sdp: pb.offer }, 'call');
    await until(() => bob.of('pinhole:sfu-error').length === 1, 10_000, "bob's refusal");
    const [refused] = bob.of('pinhole:sfu-error');
    expect(refused).toMatchObject({ code: 'over-capacity', request: 'pinhole:sfu-publish' });
    expect(refused!.message).toContain('publishersPerRoom 1');
    expect(alice.of('pinhole:sfu-error')).toEqual([]);
    expect(sfu.room('call').published().map((p) => p.publisher)).toEqual([alice.signaler.localId]);

    await alice.signaler.leave('call');
    await until(() => sfu.room('call').publisherCount() === 0, 10_000, "alice's publication to end");
    bob.signaler.signal(bob.sfu()!, { type: 'pinhole:sfu-publish', sdp: pb.offer }, 'call');
    await until(() => bob.of('pinhole:sfu-answer').length === 1, 10_000, "bob's answer");
  });
});
