/**
 * What every engine behind the seam must do, run against each one: a node-datachannel peer on
 * the other side, real DTLS-SRTP on loopback. Subscriber engines: node-datachannel (the
 * default fan-out; renegotiated: tracks added and removed on a connected transport); publisher engines: werift (node-datachannel cannot receive simulcast);
 * viewer engines (they answer a player's offer): node-datachannel (the default) and werift.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DataChannelEngine, SfuError, WeriftEngine, type PublisherEngine, type SubscriberEngine, type SubscriberTrack, type ViewerEngine } from '../src/index.js';
import { waitUntil } from '../src/wait.js';
import { rtp, vp8Key } from '@pinhole/test-kit/rtp';
import { answeringPeer, publishingPeer, sessionPeer, viewingPeer } from '@pinhole/test-kit/media-peer';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** node-datachannel only: the one subscriber engine in use (werift's subscriber side was dropped with renegotiated sessions). */
const subscriberEngines: [string, () => SubscriberEngine][] = [['node-datachannel', () => new DataChannelEngine()]];
const publisherEngines: [string, () => PublisherEngine][] = [['werift', () => new WeriftEngine()]];
const viewerEngines: [string, () => ViewerEngine][] = [
  ['node-datachannel', () => new DataChannelEngine()],
  ['werift', () => new WeriftEngine()],
];

describe.each(subscriberEngines)('subscriber engine %s', (_name, make) => {
  it('offers exactly the codecs asked, sends RTP with the SSRC and payload type it announced, relays PLI, and releases on close', async () => {
    const engine = make();
    cleanups.push(() => engine.close());
    const transport = engine.createSubscriberTransport();
    expect(engine.subscriberCount()).toBe(1);
    const video = transport.addTrack('video/VP8');
    const audio = transport.addTrack('audio/opus');
    const offer = await transport.createOffer();
    expect(offer).toMatch(/m=video [^\r\n]*\r?\n/);
    expect(offer).toMatch(/a=rtpmap:\d+ VP8\/90000/i);
    expect(offer).not.toMatch(/H264|VP9|AV1/i);
    expect(offer).toMatch(/a=rtpmap:\d+ opus\/48000/i);
    expect(offer).toMatch(/a=sendonly/);

    // The SFU's candidates are held back until the answer is applied (engine.ts), then handed out.
    expect(offer).not.toMatch(/a=candidate:|a=end-of-candidates/);
    const peer = await answeringPeer(offer);
    cleanups.push(() => peer.close());
    const trickled: string[] = [];
    await transport.acceptAnswer(peer.answer, (candidates) => {
      trickled.push(...candidates.map((c) => c.candidate));
      peer.addCandidates(candidates);
    });
    expect(trickled.length).toBeGreaterThan(0);
    expect(trickled.every((c) => c.startsWith('candidate:'))).toBe(true);

    let keyframeRequests = 0;
    video.onKeyframeRequest(() => keyframeRequests++);
    for (let i = 0; i < 30; i++) {
      video.send(rtp({ ssrc: video.ssrc, seq: 1000 + i, ts: i * 3000, pt: video.codec.payloadType, payload: vp8Key() }));
      audio.send(rtp({ ssrc: audio.ssrc, seq: 50 + i, ts: i * 960, pt: audio.codec.payloadType, payload: Buffer.from([0xfc, 1, 2]) }));
      await new Promise((r) => setTimeout(r, 10));
    }
    await waitUntil(() => (peer.received.get(video.ssrc) ?? 0) >= 20 && (peer.received.get(audio.ssrc) ?? 0) >= 20, 'RTP at the peer');
    expect([...peer.received.keys()].sort()).toEqual([video.ssrc, audio.ssrc].sort());

    await waitUntil(() => {
      peer.requestKeyframes();
      return keyframeRequests > 0;
    }, 'the PLI to reach onKeyframeRequest');

    let closed = 0;
    transport.onClose(() => closed++);
    transport.close();
    transport.close();
    expect(closed).toBe(1);
    expect(engine.subscriberCount()).toBe(0);
  });

  it('renegotiates: tracks added to a connected transport send after the next answer, a removed one stops and its section is inactive, then reused (RTP and PLI)', async () => {
    const engine = make();
    cleanups.push(() => engine.close());
    const transport = engine.createSubscriberTransport();
    const peer = sessionPeer();
    cleanups.push(() => peer.close());
    const negotiate = async (): Promise<string> => {
      const offer = await transport.createOffer();
      await transport.acceptAnswer(await peer.answer(offer), (c) => peer.addCandidates(c));
      return offer;
    };
    const pump = async (tracks: SubscriberTrack[]): Promise<void> => {
      for (let i = 0; i < 20; i++) {
        for (const t of tracks) t.send(rtp({ ssrc: t.ssrc, seq: i, ts: i * 3000, pt: t.codec.payloadType, payload: vp8Key() }));
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const first = transport.addTrack('video/VP8');
    await negotiate();
    const second = transport.addTrack('video/VP8');
    const audio = transport.addTrack('audio/opus');
    expect(new Set([first.mid, second.mid, audio.mid]).size).toBe(3);
    const offer2 = await negotiate();
    expect(offer2).not.toMatch(/a=candidate:/);
    await pump([first, second, audio]);
    await waitUntil(() => [first, second, audio].every((t) => (peer.received.get(t.ssrc) ?? 0) >= 10), 'RTP on all three tracks');

    transport.removeTrack(first);
    const reused = transport.addTrack('video/VP8');
    expect(reused.mid).not.toBe(first.mid); // not before an answer took the section as inactive
    transport.removeTrack(reused);
    const offer3 = await negotiate();
    expect(offer3).toMatch(new RegExp(`a=mid:${first.mid}\\r\\n(a=[^\\r]*\\r\\n)*?a=inactive`));
    const before = peer.received.get(first.ssrc) ?? 0;
    await pump([first, second]);
    expect(peer.received.get(first.ssrc) ?? 0).toBe(before);

    const third = transport.addTrack('video/VP8');
    expect([first.mid, reused.mid]).toContain(third.mid);
    const offer4 = await negotiate();
    expect(offer4.split('\r\n').filter((l) => l.startsWith('m=')).length).toBe(4);
    await pump([third]);
    await waitUntil(() => (peer.received.get(third.ssrc) ?? 0) >= 10, 'RTP on the reused section');
    // PLI on the reused section reaches the new track, not the one removed from it.
    let thirdAsked = 0;
    let firstAsked = 0;
    third.onKeyframeRequest(() => thirdAsked++);
    first.onKeyframeRequest(() => firstAsked++);
    await waitUntil(() => {
      third.send(rtp({ ssrc: third.ssrc, seq: 100, ts: 0, pt: third.codec.payloadType, payload: vp8Key() }));
      peer.requestKeyframes();
      return thirdAsked > 0;
    }, 'the PLI on the reused section');
    expect(firstAsked).toBe(0);
    transport.close();
    expect(engine.subscriberCount()).toBe(0);
  });

  it('refuses a codec it does not forward and a malformed answer with typed errors, and releases the transport', async () => {
    const engine = make();
    cleanups.push(() => engine.close());
    const transport = engine.createSubscriberTransport();
    expect(() => transport.addTrack('video/AV2')).toThrow(SfuError);
    transport.addTrack('video/VP8');
    await transport.createOffer();
    const err = await transport.acceptAnswer('v=0\r\nthis is not SDP\r\n', () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SfuError);
    transport.close();
    expect(engine.subscriberCount()).toBe(0);
  });
});

describe.each(publisherEngines)('publisher engine %s', (_name, make) => {
  it('answers an offer, announces the stream, delivers its RTP, sends PLI to the publisher, and releases on close', async () => {
    const engine = make();
    cleanups.push(() => engine.close());
    const transport = engine.createPublisherTransport();
    expect(engine.publisherCount()).toBe(1);
    const streams: { kind: string; rid: string | undefined; ssrc: () => number; packets: Buffer[]; requestKeyframe(): void }[] = [];
    transport.onStream((s) => {
      const entry = { kind: s.kind, rid: s.rid, ssrc: () => s.ssrc, packets: [] as Buffer[], requestKeyframe: () => s.requestKeyframe() };
      s.onRtp((p) => entry.packets.push(p));
      streams.push(entry);
    });
    const peer = await publishingPeer();
    cleanups.push(() => peer.close());
    const answer = await transport.answer(peer.offer);
    expect(answer).toMatch(/a=recvonly/);
    await peer.accept(answer);
    await waitUntil(() => {
      peer.send(rtp({ ssrc: peer.ssrc, seq: streams[0]?.packets.length ?? 0, ts: 0, pt: 96, payload: vp8Key() }));
      return (streams[0]?.packets.length ?? 0) >= 5;
    }, 'RTP through the publisher transport');
    expect(streams).toHaveLength(1);
    expect(streams[0]).toMatchObject({ kind: 'video', rid: undefined });
    expect(streams[0]!.packets[0]!.readUInt32BE(8)).toBe(peer.ssrc);
    expect(streams[0]!.ssrc()).toBe(peer.ssrc);

    await waitUntil(() => {
      streams[0]!.requestKeyframe();
      return peer.rtcp.some((m) => m[1] === 206 && (m[0]! & 0x1f) === 1);
    }, 'a PLI at the publisher');

    transport.close();
    expect(engine.publisherCount()).toBe(0);
  });

  it('rejects a malformed offer with a typed error', async () => {
    const engine = make();
    cleanups.push(() => engine.close());
    const transport = engine.createPublisherTransport();
    const err = await transport.answer('v=0\r\ngarbage\r\n').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SfuError);
    transport.close();
    expect(engine.publisherCount()).toBe(0);
  });
});

describe.each(viewerEngines)('viewer engine %s', (_name, make) => {
  it("answers a recvonly offer with the viewer's payload types and announced SSRCs, sends RTP with them, relays PLI, and releases on close", async () => {
    const engine = make();
    cleanups.push(() => engine.close());
    const transport = engine.createViewerTransport();
    expect(engine.viewerCount()).toBe(1);
    const peer = await viewingPeer(101, 110);
    cleanups.push(() => peer.close());
    // Wanted in another order than the offer's sections, and one kind twice: the second video finds no section.
    const [audio, video, extra] = await transport.acceptOffer(peer.offer, [
      { kind: 'audio', mimeType: 'audio/opus' },
      { kind: 'video', mimeType: 'video/VP8' },
      { kind: 'video', mimeType: 'video/VP8' },
    ]);
    expect(extra).toBeUndefined();
    expect(video!.codec).toMatchObject({ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 });
    expect(audio!.codec).toMatchObject({ payloadType: 110, clockRate: 48000 });
    const answer = await transport.createAnswer();
    expect(answer).toContain(`a=ssrc:${video!.ssrc} `);
    expect(answer).toContain(`a=ssrc:${audio!.ssrc} `);
    expect(answer).not.toMatch(/H264|PCMU/i);
    expect(answer.match(/a=sendonly/g)).toHaveLength(2);
    peer.accept(answer);
    await transport.connected();

    let keyframeRequests = 0;
    video!.onKeyframeRequest(() => keyframeRequests++);
    for (let i = 0; i < 30; i++) {
      video!.send(rtp({ ssrc: video!.ssrc, seq: 1000 + i, ts: i * 3000, pt: 101, payload: vp8Key() }));
      audio!.send(rtp({ ssrc: audio!.ssrc, seq: 50 + i, ts: i * 960, pt: 110, payload: Buffer.from([0xfc, 1, 2]) }));
      await new Promise((r) => setTimeout(r, 10));
    }
    await waitUntil(() => (peer.received.get(video!.ssrc) ?? 0) >= 20 && (peer.received.get(audio!.ssrc) ?? 0) >= 20, 'RTP at the viewer');
    expect(peer.payloadTypes.get(video!.ssrc)).toEqual(new Set([101]));
    expect(peer.payloadTypes.get(audio!.ssrc)).toEqual(new Set([110]));
    await waitUntil(() => {
      peer.requestKeyframes();
      return keyframeRequests > 0;
    }, 'the PLI to reach onKeyframeRequest');

    let closed = 0;
    transport.onClose(() => closed++);
    transport.close();
    transport.close();
    expect(closed).toBe(1);
    expect(engine.viewerCount()).toBe(0);
  });

  it('refuses a malformed offer with a typed error and releases the transport', async () => {
    const engine = make();
    cleanups.push(() => engine.close());
    const transport = engine.createViewerTransport();
    const err = await transport.acceptOffer('v=0\r\ngarbage\r\n', [{ kind: 'video', mimeType: 'video/VP8' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SfuError);
    transport.close();
    expect(engine.viewerCount()).toBe(0);
  });
});
