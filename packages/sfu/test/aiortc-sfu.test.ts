/**
 * A non-browser client on the SFU (issue 15): test/interop/aiortc_sfu.py, an aiortc client
 * written from docs/protocol/ (hub.md, sfu.md §15) alone, publishes VP8 video and audio and
 * subscribes through hub signals to a real hub and an in-process SfuService. Two aiortc
 * clients decode each other's video; a node-datachannel subscriber receives the first one's
 * RTP through the SFU; a third aiortc publisher joining later reaches the first one on its
 * one subscriber connection, through a renegotiation, and one leaving is renegotiated away.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HubSignaler, nodePlatform, type Json } from '@pinhole/node';
import type { PeerInfo } from '@pinhole/protocol';
import { Sfu, SfuService } from '../src/index.js';
import { startTestHub } from '@pinhole/test-kit/hub';
import { sessionPeer, ssrcOfSection } from '@pinhole/test-kit/media-peer';
import { until } from '@pinhole/test-kit/wait';
import { AiortcSfuClient, requireAiortc } from './support/aiortc-client.js';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
beforeAll(() => requireAiortc());

/** Decoded frames each way that count as "receives": the pattern runs at 15 frames a second. */
const FRAMES = 30;
const ROOM = 'aiortc';

function aiortc(url: string, name: string): AiortcSfuClient {
  const client = new AiortcSfuClient(url, ROOM, name);
  cleanup.push(() => client.close());
  return client;
}

/** A node-datachannel member subscribing to `publisher`: one session peer answering every offer. */
async function nodeSubscriber(url: string, publisher: string): Promise<{ received: Map<number, number>; offers: Record<string, Json>[] }> {
  const signaler = new HubSignaler(url, { platform: nodePlatform(), openTimeoutMs: 3000, reconnect: false });
  cleanup.push(() => signaler.close());
  await signaler.open();
  const peer = sessionPeer();
  cleanup.push(() => peer.close());
  const offers: Record<string, Json>[] = [];
  const sfu = ((await signaler.join(ROOM)) as PeerInfo[]).find((p) => p.service === 'sfu')!.peer;
  signaler.on('signal', ({ from, data }) => {
    const d = data as Record<string, Json>;
    if (from !== sfu) return;
    if (d.type === 'pinhole:sfu-offer') {
      offers.push(d);
      void peer.answer(d.sdp as string).then((sdp) => signaler.signal(sfu, { type: 'pinhole:sfu-answer', sdp }, ROOM));
    } else if (d.type === 'pinhole:sfu-candidates') {
      peer.addCandidates(d.candidates as never);
    }
  });
  signaler.signal(sfu, { type: 'pinhole:sfu-subscribe', publisher }, ROOM);
  return { received: peer.received, offers };
}

describe('aiortc on the SFU through a real hub', () => {
  it('publishes and subscribes by sfu.md §15: decoded both ways, forwarded to node-datachannel, a later publisher renegotiated onto the same connection and one leaving renegotiated away', async () => {
    const hub = await startTestHub();
    cleanup.push(() => hub.close());
    const sfu = new Sfu();
    cleanup.push(() => sfu.close());
    const service = new SfuService({ hub: hub.url, token: () => hub.serviceToken('sfu'), sfu });
    cleanup.push(() => service.close());
    await service.start();

    // The first aiortc client opens the room; the SFU joins it and is found by `service`.
    const alice = aiortc(hub.url, 'alice');
    expect((await alice.next('sfu', () => true, 15_000))['peer']).toBe(service.peer);
    await alice.next('published');
    const bob = aiortc(hub.url, 'bob');
    await bob.next('published');
    const a = alice.peerId;
    const b = bob.peerId;

    // Each decodes the other's video and audio, on one subscriber connection each.
    await alice.until(() => alice.frames(b) > FRAMES && alice.frames(b, 'audio') > FRAMES, 30_000, "bob's frames decoded at alice");
    await bob.until(() => bob.frames(a) > FRAMES && bob.frames(a, 'audio') > FRAMES, 30_000, "alice's frames decoded at bob");
    const first = alice.all('offer');
    expect(first).toHaveLength(1);
    expect((first[0]!['tracks'] as { publisher: string; kind: string }[]).map((t) => [t.publisher, t.kind]).sort()).toEqual([
      [b, 'audio'],
      [b, 'video'],
    ]);

    // A node-datachannel subscriber gets alice's video RTP through the SFU.
    const watcher = await nodeSubscriber(hub.url, a);
    await until(() => watcher.offers.length > 0, 15_000, 'an offer to the node subscriber');
    const videoMid = (watcher.offers[0]!.tracks as { mid: string; kind: string }[]).find((t) => t.kind === 'video')!.mid;
    const videoSsrc = ssrcOfSection(watcher.offers[0]!.sdp as string, videoMid)!;
    await until(() => (watcher.received.get(videoSsrc) ?? 0) >= 50, 20_000, "alice's video RTP at the node subscriber");

    // A third publisher joins later: alice's one session is renegotiated to carry it.
    const carol = aiortc(hub.url, 'carol');
    await carol.next('published');
    const c = carol.peerId;
    await alice.until(() => alice.frames(c) > FRAMES && alice.frames(c, 'audio') > FRAMES, 30_000, "carol's frames decoded at alice");
    const offers = alice.all('offer');
    expect(offers.length).toBeGreaterThanOrEqual(2);
    expect((offers.at(-1)!['tracks'] as { publisher: string }[]).map((t) => t.publisher).sort()).toEqual([b, b, c, c].sort());
    const framesFromBob = alice.frames(b);
    await alice.until(() => alice.frames(b) > framesFromBob + FRAMES, 15_000, "bob's frames still decoded at alice after the renegotiation");
    expect(alice.stats().subscriberConnections).toBe(1);
    expect(alice.stats()).toMatchObject({ publish: 'connected', subscribe: 'connected' });
    await carol.until(() => carol.frames(a) > FRAMES && carol.frames(b) > FRAMES, 30_000, "alice's and bob's frames decoded at carol");
    for (const client of [alice, bob, carol]) expect(client.all('error')).toEqual([]);
    expect(sfu.counts()).toEqual({ rooms: 1, publishers: 3, subscribers: 4 });

    // Bob leaves: alice's session is offered again without his sections, on the same connection.
    bob.command({ leave: true });
    await bob.next('left');
    await alice.until(() => alice.all('offer').length === offers.length + 1, 15_000, 'the offer without bob');
    expect((alice.all('offer').at(-1)!['tracks'] as { publisher: string }[]).map((t) => t.publisher)).toEqual([c, c]);
    const framesFromCarol = alice.frames(c);
    await alice.until(() => alice.frames(c) > framesFromCarol + FRAMES, 15_000, "carol's frames still decoded at alice once bob left");
    expect(alice.stats().subscriberConnections).toBe(1);
    expect(sfu.counts()).toEqual({ rooms: 1, publishers: 2, subscribers: 3 });
    console.log(JSON.stringify({ alice: alice.stats(), bob: bob.stats(), carol: carol.stats(), watcherPackets: watcher.received.get(videoSsrc) }));
  }, 120_000);
});
