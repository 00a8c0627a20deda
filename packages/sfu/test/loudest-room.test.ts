/**
 * Loudest-few audio (issue 15 item 1) on the default engine: five node-datachannel Opus
 * publishers send RFC 6464 levels; a member subscribed to all five on one session receives
 * the audio of the three most active only, and the choice follows when others start talking;
 * a member that publishes gets the three most active of the others.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Sfu, type Room } from '../src/index.js';
import { AUDIO_LEVEL_EXT_ID, publishingPeer, ssrcOfSection } from '@pinhole/test-kit/media-peer';
import { rtp } from '@pinhole/test-kit/rtp';
import { until } from '@pinhole/test-kit/wait';
import { testSubscriber, type TestSubscriber } from './support/session.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** An Opus publisher sending 20 ms packets at `levels[name]` -dBov (127: silence). */
async function talker(room: Room, name: string, ssrc: number, levels: Record<string, number>): Promise<void> {
  const peer = await publishingPeer(ssrc, { audio: true });
  cleanups.push(() => peer.close());
  await peer.accept(await room.publish(name, peer.offer));
  let seq = 0;
  const timer = setInterval(() => peer.send(rtp({ ssrc, seq: seq++, ts: seq * 960, pt: 111, payload: Buffer.from([0xfc, 0xff, 0xfe]), audioLevel: { id: AUDIO_LEVEL_EXT_ID, level: levels[name]! } })), 20);
  cleanups.push(() => clearInterval(timer));
}

/** The SSRC of `publisher`'s audio in the session's last offer. */
function ssrcFor(sub: TestSubscriber, publisher: string): number {
  const offer = sub.offers.at(-1)!;
  return ssrcOfSection(offer.sdp, offer.tracks.find((t) => t.publisher === publisher)!.mid)!;
}

/** Packets `sub` receives of each publisher's audio over `ms`. */
async function receivedOver(sub: TestSubscriber, publishers: string[], ms: number): Promise<Record<string, number>> {
  const count = (p: string): number => sub.peer.received.get(ssrcFor(sub, p)) ?? 0;
  const before = publishers.map(count);
  await new Promise((r) => setTimeout(r, ms));
  return Object.fromEntries(publishers.map((p, i) => [p, count(p) - before[i]!]));
}

describe('loudest-few audio', () => {
  it('forwards the audio of the three most active of five publishers (maxAudioForwards 3), and follows who talks', async () => {
    const sfu = new Sfu({ maxAudioForwards: 3 });
    cleanups.push(() => sfu.close());
    const room = sfu.room('r');
    const names = ['a', 'b', 'c', 'd', 'e'];
    const levels: Record<string, number> = { a: 20, b: 25, c: 30, d: 127, e: 127 };
    for (const [i, name] of names.entries()) await talker(room, name, 0xa000 + i, levels);
    await until(() => room.activeSpeaker !== undefined, 10_000, 'levels ranked');

    const sub = testSubscriber(room, 'listener');
    cleanups.push(() => sub.peer.close());
    for (const name of names) await room.subscribe('listener', name, sub.signals);
    await until(() => names.filter((p) => room.audioPaused('listener', p)).join() === 'd,e', 5_000, 'd and e paused for the listener');
    // A member that publishes too gets the loudest three of the others: its own place is not one.
    const a = testSubscriber(room, 'a');
    cleanups.push(() => a.peer.close());
    for (const name of names.slice(1)) await room.subscribe('a', name, a.signals);
    await until(() => names.slice(1).filter((p) => room.audioPaused('a', p)).length === 1, 5_000, 'one of four paused for a');
    expect(['b', 'c'].map((p) => room.audioPaused('a', p))).toEqual([false, false]);
    await until(() => sub.offers.at(-1)?.tracks.length === 5 && sub.answered >= sub.offers.length, 15_000, 'all five sections answered');
    await until(() => ['a', 'b', 'c'].every((p) => (sub.peer.received.get(ssrcFor(sub, p)) ?? 0) > 10), 15_000, 'a, b and c at the listener');

    let got = await receivedOver(sub, names, 1000);
    expect(got.a).toBeGreaterThan(20);
    expect(got.b).toBeGreaterThan(20);
    expect(got.c).toBeGreaterThan(20);
    expect([got.d, got.e]).toEqual([0, 0]);

    // d and e start talking, a and b stop: they take a's and b's places.
    Object.assign(levels, { a: 127, b: 127, d: 15, e: 18 });
    await until(() => !room.audioPaused('listener', 'd') && !room.audioPaused('listener', 'e'), 10_000, 'd and e forwarded');
    expect(['a', 'b', 'c'].map((p) => room.audioPaused('listener', p))).toEqual([true, true, false]);
    got = await receivedOver(sub, names, 1000);
    expect(got.d).toBeGreaterThan(20);
    expect(got.e).toBeGreaterThan(20);
    expect(got.c).toBeGreaterThan(20);
    expect([got.a, got.b]).toEqual([0, 0]);

    // Down to three publishers: everyone's audio again.
    sfu.leave('r', 'a');
    sfu.leave('r', 'c');
    await until(() => !room.audioPaused('listener', 'b'), 5_000, 'b forwarded again');
  });
});
