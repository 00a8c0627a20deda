/**
 * NACK on both legs, on the default engine: a subscriber that lost packets (it says so with a
 * Generic NACK, RFC 4585 §6.2.1) gets the SFU's copies again — same SSRC, sequence numbers and
 * payload — counted in the SFU's counters; and the SFU's publisher leg (werift) NACKs what a
 * publisher's packets miss, and forwards the publisher's retransmission into its place.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RtcpPacketConverter, RtcpTransportLayerFeedback, GenericNack } from 'werift';
import { Sfu, type Room } from '../src/index.js';
import { rtp } from '@pinhole/test-kit/rtp';
import { publishingPeer, ssrcOfSection, type PublishingPeer } from '@pinhole/test-kit/media-peer';
import { until } from '@pinhole/test-kit/wait';
import { weriftSubscriber } from './support/werift-subscriber.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** A VP8 keyframe-start descriptor, then the publisher's sequence number: each packet's payload is its own. */
const payload = (seq: number): Buffer => Buffer.from([0x10, 0x00, 0x9d, 0x01, 0x2a, seq >> 8, seq & 0xff]);

/** `name` publishes VP8 every 10 ms, skipping the sequence numbers in `skip` (lost on the way). */
async function publish(room: Room, name: string, ssrc: number, skip = new Set<number>()): Promise<PublishingPeer> {
  const publisher = await publishingPeer(ssrc);
  cleanups.push(() => publisher.close());
  await publisher.accept(await room.publish(name, publisher.offer));
  let seq = 0;
  const timer = setInterval(() => {
    seq++;
    if (!skip.has(seq)) publisher.send(rtp({ ssrc, seq, ts: seq * 3000, payload: payload(seq) }));
  }, 10);
  cleanups.push(() => clearInterval(timer));
  return publisher;
}

describe('NACK', () => {
  it("resends a subscriber's NACKed packets from the history of what it sent that subscriber, and counts them", async () => {
    const sfu = new Sfu();
    cleanups.push(() => sfu.close());
    const room = sfu.room('r');
    await publish(room, 'alice', 0x1111_0000);
    const bob = await weriftSubscriber(room, 'bob', 'alice');
    cleanups.push(() => bob.close());
    await until(() => bob.offer() !== '' && (bob.packets.get(ssrcOfSection(bob.offer(), '0')!)?.size ?? 0) > 30, 15_000, 'alice at bob');
    const offer = bob.offer();
    expect(offer).toMatch(/a=rtcp-fb:96 nack\r?\n/);
    expect(offer).toMatch(/a=rtcp-fb:96 nack pli\r?\n/);
    const ssrc = ssrcOfSection(offer, '0')!;
    const received = bob.packets.get(ssrc)!;

    // bob "lost" three packets it got (the test's stand-in for loss on the way) and one never sent.
    const seqs = [...received.keys()].sort((a, b) => a - b);
    const lost = seqs.slice(10, 13);
    const neverSent = (seqs.at(-1)! + 5000) & 0xffff;
    expect(sfu.counters.nacks).toBe(0);
    await bob.nack(ssrc, [...lost, neverSent]);
    await until(() => lost.every((s) => received.get(s)!.length === 2), 5_000, 'the NACKed packets again');
    for (const s of lost) expect(received.get(s)![1]).toEqual(received.get(s)![0]);
    expect(received.has(neverSent)).toBe(false);
    await until(() => sfu.counters.nacks >= 1, 5_000, 'the NACK counted');
    expect(sfu.counters.nackedPackets).toBeGreaterThanOrEqual(4);
    expect(sfu.counters.retransmittedPackets).toBeGreaterThanOrEqual(3);
    expect(sfu.counters.nackedPackets - sfu.counters.retransmittedPackets).toBeGreaterThanOrEqual(1);
  });

  it('resends only on the track the NACK names, when its compound RTCP reports about other tracks too', async () => {
    const sfu = new Sfu();
    cleanups.push(() => sfu.close());
    const room = sfu.room('r');
    // Both publishers number their packets alike, so both outgoing tracks hold the same sequence numbers.
    await publish(room, 'alice', 0x3333_0000);
    await publish(room, 'bob', 0x4444_0000);
    const carol = await weriftSubscriber(room, 'carol', 'alice', 'bob');
    cleanups.push(() => carol.close());
    const ssrcs = (): number[] => ['0', '1'].map((mid) => ssrcOfSection(carol.offer(), mid) ?? 0);
    await until(() => ssrcs().every((ssrc) => (carol.packets.get(ssrc)?.size ?? 0) > 30), 15_000, 'alice and bob at carol');
    const [x, y] = ssrcs() as [number, number];
    const [atX, atY] = [carol.packets.get(x)!, carol.packets.get(y)!];
    const common = [...atX.keys()].filter((seq) => atY.has(seq)).slice(5, 8);
    expect(common).toHaveLength(3);

    await carol.nack(x, common, [x, y]);
    await until(() => common.every((seq) => atX.get(seq)!.length === 2), 5_000, 'the NACKed packets again on x');
    await new Promise((r) => setTimeout(r, 300));
    expect(common.map((seq) => atY.get(seq)!.length)).toEqual([1, 1, 1]);
    expect(common.map((seq) => atX.get(seq)!.length)).toEqual([2, 2, 2]);
    expect(sfu.counters.retransmittedPackets).toBe(3);
  });

  it("NACKs a publisher's missing packets and forwards its retransmission into their place", async () => {
    const sfu = new Sfu();
    cleanups.push(() => sfu.close());
    const room = sfu.room('r');
    const missing = 150;
    const alice = await publish(room, 'alice', 0x2222_0000, new Set([missing]));
    const bob = await weriftSubscriber(room, 'bob', 'alice');
    cleanups.push(() => bob.close());

    // werift's receiver (the publisher leg) asks for the packet the publisher's stream misses.
    const nacked = (): number[] =>
      alice.rtcp.flatMap((msg) => {
        try {
          return RtcpPacketConverter.deSerialize(msg).flatMap((p) => (p instanceof RtcpTransportLayerFeedback && p.feedback instanceof GenericNack ? p.feedback.lost : []));
        } catch {
          return [];
        }
      });
    await until(() => nacked().includes(missing), 15_000, `a NACK for ${missing}`);

    // The publisher answers it; the subscriber gets the packet where it belongs.
    await until(() => bob.offer() !== '', 15_000, 'the offer to bob');
    const ssrc = ssrcOfSection(bob.offer(), '0')!;
    const arrivals = (): [number, Buffer][] => [...(bob.packets.get(ssrc) ?? new Map<number, Buffer[]>())].map(([seq, copies]) => [seq, copies[0]!]);
    const publisherSeq = (p: Buffer): number => (p[5]! << 8) | p[6]!;
    await until(() => arrivals().some(([, p]) => publisherSeq(p) === missing + 1), 15_000, 'packets after the gap at bob');
    alice.send(rtp({ ssrc: 0x2222_0000, seq: missing, ts: missing * 3000, payload: payload(missing) }));
    await until(() => arrivals().some(([, p]) => publisherSeq(p) === missing), 5_000, 'the retransmitted packet at bob');
    const bySeq = new Map(arrivals().map(([seq, p]) => [publisherSeq(p), seq]));
    expect(bySeq.get(missing)).toBe((bySeq.get(missing - 1)! + 1) & 0xffff);
    expect(bySeq.get(missing + 1)).toBe((bySeq.get(missing)! + 1) & 0xffff);
  });
});
