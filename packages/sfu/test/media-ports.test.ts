/**
 * Media ports (SfuOptions.portRange, announcedAddress) on the default engine with real
 * node-datachannel peers: every candidate the SFU hands out — a publisher's answer (werift),
 * a subscriber session's trickled candidates and a viewer's answer (node-datachannel) — has
 * its port in the range; with an announced address every IPv4 host candidate carries it (here
 * 127.0.0.1 while the engines bind the host's own addresses) and media still flows.
 */
import { isIPv4 } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import nodeDataChannel from 'node-datachannel';
import { Sfu, announceCandidate, announceSdp, type SfuOptions } from '../src/index.js';
import { rtp, vp8Key } from '@pinhole/test-kit/rtp';
import { publishingPeer, viewingPeer } from '@pinhole/test-kit/media-peer';
import { freeUdpPort } from '@pinhole/test-kit/ports';
import { until } from '@pinhole/test-kit/wait';
import { testSubscriber } from './support/session.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

const candidatesOf = (sdp: string): string[] => sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2));
/** [address, port, type] of a `candidate:…` value. */
const fields = (candidate: string): [string, number, string] => {
  const p = candidate.split(' ');
  return [p[4]!, Number(p[5]), p[7]!];
};
const total = (received: Map<number, number>): number => [...received.values()].reduce((a, b) => a + b, 0);

/** A publisher, a session subscriber and a viewer on an Sfu made with `options`; what the SFU handed each, once media reaches both receivers. */
async function roomWith(options: SfuOptions): Promise<{ publisher: string[]; subscriber: string[]; viewer: string[] }> {
  const sfu = new Sfu(options);
  cleanups.push(() => sfu.close());
  const room = sfu.room('r');
  const publisher = await publishingPeer();
  cleanups.push(() => publisher.close());
  const answer = await room.publish('alice', publisher.offer);
  await publisher.accept(answer);
  let seq = 0;
  const timer = setInterval(() => publisher.send(rtp({ ssrc: publisher.ssrc, seq: seq++, ts: seq * 3000, payload: vp8Key() })), 10);
  cleanups.push(() => clearInterval(timer));

  const sub = testSubscriber(room, 'bob');
  cleanups.push(() => sub.peer.close());
  await room.subscribe('bob', 'alice', sub.signals);
  const viewer = await viewingPeer();
  cleanups.push(() => viewer.close());
  const viewerAnswer = await room.view('carol', 'alice', viewer.offer);
  viewer.accept(viewerAnswer);
  await until(() => total(sub.peer.received) > 10 && total(viewer.received) > 10, 15_000, 'media at the subscriber and the viewer');
  return {
    publisher: candidatesOf(answer),
    subscriber: [...sub.offers.flatMap((o) => candidatesOf(o.sdp)), ...sub.candidates.flat().map((c) => c.candidate)],
    viewer: candidatesOf(viewerAnswer),
  };
}

describe('media ports', () => {
  it('portRange: every candidate of both engines has its port in the range, and media flows', async () => {
    const low = Math.min(await freeUdpPort(), 65_000);
    const high = low + 40;
    const got = await roomWith({ portRange: [low, high] });
    for (const [who, candidates] of Object.entries(got)) {
      expect(candidates.length, who).toBeGreaterThan(0);
      for (const c of candidates) {
        const [, port] = fields(c);
        expect(port, `${who}: ${c}`).toBeGreaterThanOrEqual(low);
        expect(port, `${who}: ${c}`).toBeLessThanOrEqual(high);
      }
    }
  });

  it('announcedAddress: every IPv4 host candidate carries it (IPv6 ones are left: no NAT there), and media flows', async () => {
    const got = await roomWith({ announcedAddress: '127.0.0.1' });
    for (const [who, candidates] of Object.entries(got)) {
      const hosts = candidates.map(fields).filter(([address, , type]) => type === 'host' && isIPv4(address));
      expect(hosts.length, who).toBeGreaterThan(0);
      for (const [address] of hosts) expect(address, who).toBe('127.0.0.1');
    }
  });

  it('announcedAddress is the one a subscriber connects to: given only the announced IPv4 candidates and sending none, it gets media from there', async () => {
    const sfu = new Sfu({ announcedAddress: '127.0.0.1' });
    cleanups.push(() => sfu.close());
    const room = sfu.room('r');
    const publisher = await publishingPeer();
    cleanups.push(() => publisher.close());
    await publisher.accept(await room.publish('alice', publisher.offer));
    let seq = 0;
    const timer = setInterval(() => publisher.send(rtp({ ssrc: publisher.ssrc, seq: seq++, ts: seq * 3000, payload: vp8Key() })), 10);
    cleanups.push(() => clearInterval(timer));

    const pc = new nodeDataChannel.PeerConnection('dave', { iceServers: [], disableAutoNegotiation: true });
    cleanups.push(() => pc.close());
    const tracks: nodeDataChannel.Track[] = [];
    let packets = 0;
    pc.onTrack((track) => {
      tracks.push(track);
      track.setMediaHandler(new nodeDataChannel.RtcpReceivingSession());
      track.onMessage(() => void packets++);
    });
    await room.subscribe('dave', 'alice', {
      offer: (offer) => {
        pc.setRemoteDescription(offer.sdp, 'offer');
        pc.setLocalDescription('answer');
        void until(() => pc.gatheringState() === 'complete', 5000, 'gathering').then(() =>
          // No candidates of ours: the SFU cannot reach us first, we must reach its announced address.
          room.acceptAnswer('dave', pc.localDescription()!.sdp.replace(/^a=candidate:.*\r?\n/gm, '')),
        );
      },
      candidates: (candidates) => {
        for (const c of candidates) if (isIPv4(fields(c.candidate)[0])) pc.addRemoteCandidate(c.candidate, c.sdpMid);
      },
      closed: () => undefined,
    });
    await until(() => packets > 10, 15_000, 'media at dave');
    expect(pc.getSelectedCandidatePair()?.remote.address).toBe('127.0.0.1');
  });

  it('rewrites only host candidates of its family; c= lines follow; duplicates once', () => {
    const host = 'candidate:1 1 UDP 2122317823 10.0.0.5 50312 typ host';
    expect(announceCandidate(host, '203.0.113.9')).toBe('candidate:1 1 UDP 2122317823 203.0.113.9 50312 typ host');
    const srflx = 'candidate:2 1 UDP 1686052607 198.51.100.1 50312 typ srflx raddr 10.0.0.5 rport 50312';
    expect(announceCandidate(srflx, '203.0.113.9')).toBe(srflx);
    const v6 = 'candidate:3 1 UDP 2122317823 fd00::5 50312 typ host';
    expect(announceCandidate(v6, '203.0.113.9')).toBe(v6);
    const sdp = ['v=0', 'm=video 50312 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 10.0.0.5', `a=${host}`, 'a=candidate:4 1 UDP 2122317000 172.17.0.1 50312 typ host', 'a=mid:0', ''].join('\r\n');
    expect(announceSdp(sdp, '203.0.113.9')).toBe(
      ['v=0', 'm=video 50312 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 203.0.113.9', 'a=candidate:1 1 UDP 2122317823 203.0.113.9 50312 typ host', 'a=mid:0', ''].join('\r\n'),
    );
  });
});
