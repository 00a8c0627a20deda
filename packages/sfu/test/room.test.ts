/**
 * Room lifecycle on the default engine (werift in, node-datachannel out) with node-datachannel
 * peers: media forwarded with the subscriber's SSRC; a subscriber or publisher that leaves
 * releases its transports (counts back to 0 once everyone has left); bad requests get typed errors and leave nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Sfu, SfuError } from '../src/index.js';
import { waitUntil } from '../src/wait.js';
import nodeDataChannel from 'node-datachannel';
import { rtp, vp8Key } from '@pinhole/test-kit/rtp';
import { publishingPeer, viewingPeer, type PublishingPeer, type SessionPeer } from '@pinhole/test-kit/media-peer';
import { testSubscriber } from './support/session.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function publishedRoom(): Promise<{ sfu: Sfu; publisher: PublishingPeer; pump: () => void }> {
  const sfu = new Sfu();
  cleanups.push(() => sfu.close());
  const publisher = await publishingPeer();
  cleanups.push(() => publisher.close());
  const answer = await sfu.room('r').publish('alice', publisher.offer);
  await publisher.accept(answer);
  let seq = 0;
  const timer = setInterval(() => publisher.send(rtp({ ssrc: publisher.ssrc, seq: seq++, ts: seq * 3000, payload: vp8Key() })), 10);
  cleanups.push(() => clearInterval(timer));
  return { sfu, publisher, pump: () => clearInterval(timer) };
}

describe('Room on the default engine', () => {
  it('forwards a single-layer publisher to two subscribers, each with its own SSRC; leaving releases everything', async () => {
    const { sfu } = await publishedRoom();
    const room = sfu.room('r');
    const peers: SessionPeer[] = [];
    for (const name of ['bob', 'carol']) {
      const sub = testSubscriber(room, name);
      cleanups.push(() => sub.peer.close());
      await room.subscribe(name, 'alice', sub.signals);
      peers.push(sub.peer);
    }
    await waitUntil(() => peers.every((p) => [...p.received.values()].some((n) => n >= 10)), 'media at both subscribers');
    const [bobSsrc] = [...peers[0]!.received.keys()];
    const [carolSsrc] = [...peers[1]!.received.keys()];
    expect(bobSsrc).not.toBe(carolSsrc);
    expect(sfu.counts()).toEqual({ rooms: 1, publishers: 1, subscribers: 2 });

    sfu.leave('r', 'bob');
    expect(sfu.counts()).toEqual({ rooms: 1, publishers: 1, subscribers: 1 });
    // A publisher that leaves ends its forwards; carol's session stays while she is in the room.
    sfu.leave('r', 'alice');
    expect(room.counts()).toEqual({ publishers: 0, subscriptions: 0 });
    expect(sfu.counts()).toEqual({ rooms: 1, publishers: 0, subscribers: 1 });
    sfu.leave('r', 'carol');
    expect(sfu.counts()).toEqual({ rooms: 0, publishers: 0, subscribers: 0 });
  });

  it('a subscriber transport that closes by itself is dropped from the room, and the member told', async () => {
    const { sfu } = await publishedRoom();
    const room = sfu.room('r');
    const sub = testSubscriber(room, 'bob');
    const peer = sub.peer;
    await room.subscribe('bob', 'alice', sub.signals);
    await waitUntil(() => [...peer.received.values()].some((n) => n > 0), 'media at bob');
    const closedAt = Date.now();
    // The remote end goes away without a word the SFU acts on: libdatachannel notices when ICE
    // consent lapses (about 30 s here, RFC 7675), then the transport closes itself.
    peer.close();
    await waitUntil(() => room.counts().subscriptions === 0, "bob's subscription to end", 50_000);
    console.log(`remote close noticed after ${Date.now() - closedAt} ms`);
    expect(sfu.engine.counts().subscribers).toBe(0);
    expect(room.sessionCount()).toBe(0);
    expect(sub.closed).toBe(1);
  }, 80_000);

  it('bad requests get typed errors and leave no transport behind', async () => {
    const { sfu } = await publishedRoom();
    const room = sfu.room('r');
    const bob = testSubscriber(room, 'bob', { auto: false });
    cleanups.push(() => bob.peer.close());
    await expect(room.subscribe('bob', 'nobody', bob.signals)).rejects.toMatchObject({ code: 'not-found' });
    await expect(room.subscribe('bob', 'alice', bob.signals, { layer: 'x' })).resolves.toBeUndefined(); // single layer: no RID to check
    await bob.offer(1);
    sfu.leave('r', 'bob');
    await expect(room.publish('dave', 'v=0\r\nnot sdp\r\n')).rejects.toBeInstanceOf(SfuError);
    await expect(room.publish('alice', 'v=0\r\n')).rejects.toMatchObject({ code: 'bad-sdp' });
    await expect(room.acceptAnswer('erin', 'v=0\r\n')).rejects.toMatchObject({ code: 'not-found' });
    expect(() => room.setLayer('erin', 'alice', 'f')).toThrow(SfuError);
    expect(sfu.counts()).toEqual({ rooms: 1, publishers: 1, subscribers: 0 });
    sfu.leave('r', 'alice');
    expect(sfu.counts()).toEqual({ rooms: 0, publishers: 0, subscribers: 0 });
  });

  it("answers a viewer's offer: its payload type, the answer's SSRC, its PLI to the publisher; the featured publisher; the publisher leaving ends it", async () => {
    const { sfu, publisher } = await publishedRoom();
    const room = sfu.room('r');
    expect(room.featured()).toBe('alice');
    const viewer = await viewingPeer(100, 109);
    cleanups.push(() => viewer.close());
    let ended = 0;
    const answer = await room.view('v1', 'alice', viewer.offer, { onEnd: () => ended++ });
    // Only the publisher's codec (VP8) on the video section, with the viewer's payload type; the audio section (alice sends none) inactive.
    expect(answer).toMatch(/m=video \d+ UDP\/TLS\/RTP\/SAVPF 100\r\n/);
    expect(answer).toMatch(/a=rtpmap:100 VP8\/90000/);
    expect(answer).toMatch(/m=audio[^]*a=inactive/);
    const ssrc = Number(/m=video[^]*?a=ssrc:(\d+)/.exec(answer)![1]);
    viewer.accept(answer);
    await waitUntil(() => (viewer.received.get(ssrc) ?? 0) >= 20, 'media at the viewer');
    expect([...viewer.received.keys()]).toEqual([ssrc]);
    expect([...viewer.payloadTypes.get(ssrc)!]).toEqual([100]);
    expect(room.viewerCount()).toBe(1);
    expect(sfu.viewerCount('r')).toBe(1);
    expect(room.counts()).toEqual({ publishers: 1, subscriptions: 0 });

    const plis = (): number => publisher.rtcp.filter((m) => m[1] === 206 && (m[0]! & 0x1f) === 1).length;
    const before = plis();
    await waitUntil(() => {
      viewer.requestKeyframes();
      return plis() > before;
    }, "the viewer's PLI at the publisher");

    sfu.leave('r', 'alice');
    expect(ended).toBe(1);
    expect(room.viewerCount()).toBe(0);
    expect(sfu.counts()).toEqual({ rooms: 0, publishers: 0, subscribers: 0 });
  });

  it('refuses a viewer whose offer accepts none of the codecs (unsupported-codec) or names no publisher (not-found), leaving nothing', async () => {
    const { sfu } = await publishedRoom();
    const room = sfu.room('r');
    const viewer = await viewingPeer();
    cleanups.push(() => viewer.close());
    await expect(room.view('v1', 'nobody', viewer.offer)).rejects.toMatchObject({ code: 'not-found' });
    const h264Only = viewer.offer.replace(/VP8\/90000/g, 'H264/90000');
    await expect(room.view('v1', 'alice', h264Only)).rejects.toMatchObject({ code: 'unsupported-codec', message: expect.stringContaining('video/VP8') });
    expect(sfu.counts()).toEqual({ rooms: 1, publishers: 1, subscribers: 0 });
    expect(room.viewerCount()).toBe(0);
  });

  it('the featured publisher is the most recently started one that sends video: not a later audio-only one, the previous one once it leaves', async () => {
    const { sfu } = await publishedRoom(); // alice: VP8
    const room = sfu.room('r');
    const bob = await publishingPeer(0x2222_3333);
    cleanups.push(() => bob.close());
    await bob.accept(await room.publish('bob', bob.offer));
    expect(room.featured()).toBe('bob');
    // An audio-only publisher after them does not take the featured place.
    const pc = new nodeDataChannel.PeerConnection('radio', { iceServers: [], disableAutoNegotiation: true });
    cleanups.push(() => pc.close());
    const audio = new nodeDataChannel.Audio('a0', 'SendOnly');
    audio.addOpusCodec(111);
    audio.addSSRC(0x4444, 'radio', 'stream', 'audio');
    const track = pc.addTrack(audio);
    cleanups.push(() => track.close());
    pc.setLocalDescription('offer');
    await waitUntil(() => pc.gatheringState() === 'complete', 'radio gathering');
    await room.publish('radio', pc.localDescription()!.sdp);
    expect(room.featured()).toBe('bob');
    sfu.leave('r', 'bob');
    expect(room.featured()).toBe('alice');
  });
});
