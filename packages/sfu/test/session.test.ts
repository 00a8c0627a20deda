/**
 * Subscriber sessions (docs/protocol/sfu.md §15.4): one member subscribes to two publishers on
 * ONE transport, renegotiated as publishers come and go; offers are serialized; an answer that
 * does not fit the outstanding offer is refused and the session carries on. Real
 * node-datachannel peers on both sides, the default engine.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Sfu, type Room } from '../src/index.js';
import { rtp, vp8Key } from '@pinhole/test-kit/rtp';
import { publishingPeer, simulcastPeer, ssrcOfSection } from '@pinhole/test-kit/media-peer';
import { until } from '@pinhole/test-kit/wait';
import { testSubscriber, type TestSubscriber } from './support/session.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** `name` publishes one VP8 track and keeps sending keyframes. */
async function publish(room: Room, name: string, ssrc: number): Promise<void> {
  const publisher = await publishingPeer(ssrc);
  cleanups.push(() => publisher.close());
  await publisher.accept(await room.publish(name, publisher.offer));
  let seq = 0;
  const timer = setInterval(() => publisher.send(rtp({ ssrc, seq: seq++, ts: seq * 3000, payload: vp8Key() })), 10);
  cleanups.push(() => clearInterval(timer));
}

/** The SSRC the session's last offer sends `publisher`'s track with. */
function ssrcFor(sub: TestSubscriber, publisher: string): number {
  const offer = sub.offers.at(-1)!;
  const section = offer.tracks.find((t) => t.publisher === publisher)!;
  return ssrcOfSection(offer.sdp, section.mid)!;
}

const grows = async (sub: TestSubscriber, ssrc: number, what: string): Promise<void> => {
  const before = sub.peer.received.get(ssrc) ?? 0;
  await until(() => (sub.peer.received.get(ssrc) ?? 0) >= before + 10, 15_000, what);
};

const mLines = (sdp: string): number => sdp.split(/\r?\n/).filter((l) => l.startsWith('m=')).length;

describe('subscriber sessions', () => {
  it('carries two publishers on one transport, re-offers as one leaves and one is unsubscribed, and reuses freed sections', async () => {
    const sfu = new Sfu();
    cleanups.push(() => sfu.close());
    const room = sfu.room('r');
    await publish(room, 'alice', 0x1111_0000);
    await publish(room, 'bob', 0x2222_0000);
    const carol = testSubscriber(room, 'carol');
    cleanups.push(() => carol.peer.close());

    await room.subscribe('carol', 'alice', carol.signals);
    const first = await carol.offer(1);
    expect(first.tracks).toEqual([{ mid: first.tracks[0]!.mid, publisher: 'alice', kind: 'video', trackMid: 'v0' }]);
    expect(first.sdp).not.toMatch(/a=candidate:/);
    await grows(carol, ssrcFor(carol, 'alice'), 'alice at carol');
    expect(carol.candidates).toHaveLength(1);

    await room.subscribe('carol', 'bob', carol.signals);
    const second = await carol.offer(2);
    expect(second.tracks.map((t) => t.publisher)).toEqual(['alice', 'bob']);
    await grows(carol, ssrcFor(carol, 'bob'), 'bob at carol');
    await grows(carol, ssrcFor(carol, 'alice'), 'alice at carol, still');
    // One transport for both; no new candidates for the renegotiation.
    expect(sfu.engine.counts().subscribers).toBe(1);
    expect(room.sessionCount()).toBe(1);
    expect(room.counts()).toEqual({ publishers: 2, subscriptions: 2 });
    expect(carol.candidates).toHaveLength(1);

    // Subscribing again is a no-op: no offer follows.
    await room.subscribe('carol', 'bob', carol.signals);

    // alice leaves: a new offer without her section, without carol asking.
    const aliceSsrc = ssrcFor(carol, 'alice');
    sfu.leave('r', 'alice');
    const third = await carol.offer(3);
    expect(carol.offers).toHaveLength(3);
    expect(third.tracks.map((t) => t.publisher)).toEqual(['bob']);
    expect(third.sdp).toMatch(new RegExp(`a=mid:${second.tracks[0]!.mid}\\r?\\na=inactive|a=inactive[^]*a=mid:${second.tracks[0]!.mid}`));
    await until(() => carol.answered === 3, 15_000, 'the third answer');
    const aliceCount = carol.peer.received.get(aliceSsrc) ?? 0;
    await grows(carol, ssrcFor(carol, 'bob'), 'bob at carol after alice left');
    expect(carol.peer.received.get(aliceSsrc) ?? 0).toBe(aliceCount);

    // alice is back: her new publication takes the freed section (the m-line count stays 2).
    await publish(room, 'alice', 0x3333_0000);
    await room.subscribe('carol', 'alice', carol.signals);
    const fourth = await carol.offer(4);
    expect(mLines(fourth.sdp)).toBe(2);
    expect(fourth.tracks.map((t) => [t.publisher, t.mid])).toEqual([
      ['alice', second.tracks[0]!.mid],
      ['bob', second.tracks[1]!.mid],
    ]);
    await grows(carol, ssrcFor(carol, 'alice'), "alice's new track at carol");

    // Unsubscribing bob: an offer without him.
    room.unsubscribe('carol', 'bob');
    const fifth = await carol.offer(5);
    expect(fifth.tracks.map((t) => t.publisher)).toEqual(['alice']);
    await until(() => carol.answered === 5, 15_000, 'the fifth answer');
    expect(carol.errors).toEqual([]);
    expect(room.counts()).toEqual({ publishers: 2, subscriptions: 1 });

    for (const peer of ['alice', 'bob', 'carol']) sfu.leave('r', peer);
    expect(sfu.counts()).toEqual({ rooms: 0, publishers: 0, subscribers: 0 });
    expect(carol.closed).toBe(0); // leaving is not a failure to report
  });

  it('an unsubscribe without a publisher ends the whole session; subscribing again starts a new one', async () => {
    const sfu = new Sfu();
    cleanups.push(() => sfu.close());
    const room = sfu.room('r');
    await publish(room, 'alice', 0x4444_0000);
    const carol = testSubscriber(room, 'carol');
    cleanups.push(() => carol.peer.close());
    await room.subscribe('carol', 'alice', carol.signals);
    await carol.offer(1);
    await grows(carol, ssrcFor(carol, 'alice'), 'alice at carol');
    room.unsubscribe('carol');
    expect(room.sessionCount()).toBe(0);
    expect(sfu.engine.counts().subscribers).toBe(0);
    expect(carol.closed).toBe(0);
    expect(() => room.unsubscribe('carol')).toThrow(/no subscriber session/);
    // A new session: its first offer again (no candidates inside, they follow the answer).
    const again = testSubscriber(room, 'carol');
    cleanups.push(() => again.peer.close());
    await room.subscribe('carol', 'alice', again.signals);
    const first = await again.offer(1);
    expect(first.sdp).not.toMatch(/a=candidate:/);
    await grows(again, ssrcFor(again, 'alice'), 'alice at carol on the new session');
    sfu.leave('r', 'alice');
    sfu.leave('r', 'carol');
    expect(sfu.counts()).toEqual({ rooms: 0, publishers: 0, subscribers: 0 });
  });

  it('serializes offers: a change while an offer waits for its answer comes in one later offer; a wrong answer is refused and the session goes on', async () => {
    const sfu = new Sfu();
    cleanups.push(() => sfu.close());
    const room = sfu.room('r');
    await publish(room, 'alice', 0x1111_0000);
    await publish(room, 'bob', 0x2222_0000);
    const carol = testSubscriber(room, 'carol', { auto: false });
    cleanups.push(() => carol.peer.close());

    await room.subscribe('carol', 'alice', carol.signals);
    await room.subscribe('carol', 'bob', carol.signals);
    const first = await carol.offer(1);
    expect(first.tracks.map((t) => t.publisher)).toEqual(['alice']);
    await new Promise((r) => setTimeout(r, 300));
    expect(carol.offers).toHaveLength(1); // bob waits for the first answer

    const answer1 = await carol.peer.answer(first.sdp);
    await expect(room.acceptAnswer('carol', 'v=0\r\nnot an answer\r\n')).rejects.toMatchObject({ code: 'bad-sdp' });
    await room.acceptAnswer('carol', answer1);
    const second = await carol.offer(2);
    expect(second.tracks.map((t) => t.publisher)).toEqual(['alice', 'bob']);

    // The first offer's answer again, for the second offer: refused; the second is still outstanding.
    await expect(room.acceptAnswer('carol', answer1)).rejects.toMatchObject({ code: 'bad-request' });
    await carol.answer(2);
    await expect(room.acceptAnswer('carol', answer1)).rejects.toMatchObject({ code: 'bad-request' }); // nothing outstanding
    await grows(carol, ssrcFor(carol, 'bob'), 'bob at carol');
    await grows(carol, ssrcFor(carol, 'alice'), 'alice at carol');
    expect(sfu.engine.counts().subscribers).toBe(1);
  });

  it('a subscriber whose answer is applied but whose end is gone: the session closes and the member is told to subscribe again', async () => {
    const sfu = new Sfu();
    cleanups.push(() => sfu.close());
    const room = sfu.room('r');
    await publish(room, 'alice', 0x1111_0000);
    const carol = testSubscriber(room, 'carol', { auto: false });
    await room.subscribe('carol', 'alice', carol.signals);
    const answer = await carol.peer.answer((await carol.offer(1)).sdp);
    carol.peer.close(); // gone before the SFU can reach it
    const started = Date.now();
    await room.acceptAnswer('carol', answer); // resolves: the failure is the session's, told through signals.closed
    await until(() => carol.closed === 1, 30_000, 'signals.closed');
    console.log(`session of a vanished subscriber closed after ${Date.now() - started} ms`);
    expect(room.sessionCount()).toBe(0);
    expect(sfu.engine.counts().subscribers).toBe(0);
    // Subscribing again makes a new session with a first offer (candidates held back again).
    const again = testSubscriber(room, 'carol');
    cleanups.push(() => again.peer.close());
    await room.subscribe('carol', 'alice', again.signals);
    await again.offer(1);
    await grows(again, ssrcFor(again, 'alice'), 'alice at carol again');
    expect(again.candidates).toHaveLength(1);
  }, 60_000);

  it('a layer asked for while the publisher\'s sections wait for an offer is where they start; trackMid picks one video track', async () => {
    const sfu = new Sfu();
    cleanups.push(() => sfu.close());
    const room = sfu.room('r');
    await publish(room, 'alice', 0x1111_0000);
    const bob = await simulcastPeer(['q', 'f']);
    cleanups.push(() => bob.close());
    await bob.accept(await room.publish('bob', bob.offer));
    let seq = 0;
    const timer = setInterval(() => {
      bob.send('q', seq);
      bob.send('f', seq++);
    }, 10);
    cleanups.push(() => clearInterval(timer));

    const carol = testSubscriber(room, 'carol', { auto: false });
    cleanups.push(() => carol.peer.close());
    await room.subscribe('carol', 'alice', carol.signals);
    await carol.offer(1); // outstanding: bob's section is not made yet
    await room.subscribe('carol', 'bob', carol.signals);
    room.setLayer('carol', 'bob', 'f');
    expect(() => room.setLayer('carol', 'bob', 'x')).toThrow(expect.objectContaining({ code: 'bad-request' }));
    expect(() => room.setLayer('carol', 'bob', 'q', 'nope')).toThrow(expect.objectContaining({ code: 'not-found' }));
    await carol.answer(1);
    await carol.answer(2);
    expect(room.layers('carol', 'bob')).toEqual([expect.objectContaining({ mid: 'v0', target: 'f' })]);
    await until(() => room.layers('carol', 'bob')[0]?.current === 'f', 10_000, "bob's f layer at carol");
    await grows(carol, ssrcFor(carol, 'bob'), 'bob at carol');
    room.setLayer('carol', 'bob', 'q', 'v0');
    await until(() => room.layers('carol', 'bob')[0]?.current === 'q', 10_000, "bob's q layer at carol");
  });

  it("a member's REMB is for its whole session: each of its video sections gets an equal part", async () => {
    const sfu = new Sfu();
    cleanups.push(() => sfu.close());
    const room = sfu.room('r');
    // Two simulcast publishers whose "f" is five times the packets of their "q".
    for (const [name, ssrcBase] of [['bob', 0x5100_0000], ['dave', 0x5200_0000]] as const) {
      const peer = await simulcastPeer(['q', 'f'], ssrcBase);
      cleanups.push(() => peer.close());
      await peer.accept(await room.publish(name, peer.offer));
      let [q, f] = [0, 0];
      const timer = setInterval(() => {
        peer.send('q', q++);
        for (let i = 0; i < 5; i++) peer.send('f', f++);
      }, 20);
      cleanups.push(() => clearInterval(timer));
    }
    // carol's session carries both publishers' video, erin's only bob's; both ask for "f".
    const carol = testSubscriber(room, 'carol');
    cleanups.push(() => carol.peer.close());
    const erin = testSubscriber(room, 'erin');
    cleanups.push(() => erin.peer.close());
    await room.subscribe('carol', 'bob', carol.signals, { layer: 'f' });
    await room.subscribe('carol', 'dave', carol.signals, { layer: 'f' });
    await room.subscribe('erin', 'bob', erin.signals, { layer: 'f' });
    const onF = (peer: string, publisher: string): boolean => room.layers(peer, publisher)[0]?.current === 'f';
    await until(() => onF('carol', 'bob') && onF('carol', 'dave') && onF('erin', 'bob'), 15_000, '"f" at carol and erin');
    await until(() => carol.offers.at(-1)!.tracks.length === 2 && carol.answered === carol.offers.length, 15_000, "carol's offers answered");

    // "f" as the SFU receives it from bob, in bit/s: the packets carol gets of it per second, at
    // the size they arrive with (12 header + 12 MID/RID extension + 5 payload bytes; the SFU
    // forwards them without the extension, so carol's byte count would be lower).
    const ssrc = ssrcFor(carol, 'bob');
    await new Promise((r) => setTimeout(r, 1000));
    const before = carol.peer.received.get(ssrc) ?? 0;
    await new Promise((r) => setTimeout(r, 2000));
    const f = (((carol.peer.received.get(ssrc) ?? 0) - before) * 29 * 8) / 2;
    expect(f).toBeGreaterThan(0);

    // Both report 1.2 × that: enough for one "f" (the policy goes down below 0.8 ×), not for two.
    const remb = setInterval(() => {
      carol.peer.sendRemb(1.2 * f);
      erin.peer.sendRemb(1.2 * f);
    }, 500);
    cleanups.push(() => clearInterval(remb));
    await until(() => room.layers('carol', 'bob')[0]?.current === 'q' && room.layers('carol', 'dave')[0]?.current === 'q', 10_000, 'carol on "q" from both');
    await new Promise((r) => setTimeout(r, 2000));
    expect(room.layers('erin', 'bob')[0]).toMatchObject({ current: 'f', target: 'f' });
    expect(sfu.layerSwitchesByBandwidth()).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('a member that never answers an offer: the session is given up after the answer timeout and the member told; one that answers keeps it', async () => {
    const sfu = new Sfu({ answerTimeoutMs: 600 });
    cleanups.push(() => sfu.close());
    const room = sfu.room('r');
    await publish(room, 'alice', 0x1111_0000);
    const silent = testSubscriber(room, 'silent', { auto: false });
    cleanups.push(() => silent.peer.close());
    const prompt = testSubscriber(room, 'prompt');
    cleanups.push(() => prompt.peer.close());
    await room.subscribe('silent', 'alice', silent.signals);
    await room.subscribe('prompt', 'alice', prompt.signals);
    await silent.offer(1);
    await until(() => silent.closed === 1, 5_000, 'the silent session given up');
    await grows(prompt, ssrcFor(prompt, 'alice'), 'alice at the prompt subscriber');
    await new Promise((r) => setTimeout(r, 800));
    expect(prompt.closed).toBe(0);
    expect(room.sessionCount()).toBe(1);
    expect(sfu.engine.counts().subscribers).toBe(1);
    await expect(room.acceptAnswer('silent', await silent.peer.answer(silent.offers[0]!.sdp))).rejects.toMatchObject({ code: 'not-found' });
  });
});
