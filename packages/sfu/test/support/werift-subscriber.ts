/**
 * A member's subscriber session answered by werift (pure TypeScript), for what the
 * node-datachannel test peers cannot do: send RTCP the test crafts. A libdatachannel track
 * that only receives drops raw RTCP given to sendMessageBinary (its direction forbids
 * sending), while werift's DTLS transport sends any RTCP packet.
 */
import { GenericNack, RTCPeerConnection, RtcpReceiverInfo, RtcpRrPacket, RtcpTransportLayerFeedback } from 'werift';
import type { Room, SessionSignals } from '../../src/index.js';
import { until } from '@pinhole/test-kit/wait';

export interface WeriftSubscriber {
  /** Copies of the RTP packets received, by SSRC, then by sequence number (each arrival). */
  packets: Map<number, Map<number, Buffer[]>>;
  /** The last offer's SDP (`ssrcOfSection` finds each section's SSRC). */
  offer(): string;
  /**
   * Sends one Generic NACK (RFC 4585 §6.2.1) for `lost` sequence numbers of `ssrc`, after a
   * receiver report with a block about each of `reported` (one compound packet, as Chromium's).
   */
  nack(ssrc: number, lost: number[], reported?: number[]): Promise<void>;
  close(): void;
}

/** `name` subscribes to `publishers` in `room` (one session), answered by a werift peer connection. */
export async function weriftSubscriber(room: Room, name: string, ...publishers: string[]): Promise<WeriftSubscriber> {
  const pc = new RTCPeerConnection({ iceUseIpv6: false });
  const packets = new Map<number, Map<number, Buffer[]>>();
  // werift fires onTrack again for the tracks it has when a renegotiation adds one: each is counted once.
  const tracks = new Set<object>();
  pc.onTrack.subscribe((track) => {
    if (tracks.has(track)) return;
    tracks.add(track);
    track.onReceiveRtp.subscribe((rtp) => {
      const bySeq = packets.get(rtp.header.ssrc) ?? new Map<number, Buffer[]>();
      packets.set(rtp.header.ssrc, bySeq);
      const arrivals = bySeq.get(rtp.header.sequenceNumber) ?? [];
      arrivals.push(Buffer.from(rtp.payload));
      bySeq.set(rtp.header.sequenceNumber, arrivals);
    });
  });
  let last = '';
  let chain = Promise.resolve();
  const signals: SessionSignals = {
    offer: ({ sdp }) => {
      last = sdp;
      chain = chain.then(async () => {
        await pc.setRemoteDescription({ type: 'offer', sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        await until(() => pc.iceGatheringState === 'complete', 15_000, 'werift subscriber ICE gathering');
        await room.acceptAnswer(name, pc.localDescription!.sdp);
      });
    },
    candidates: (candidates) => {
      for (const c of candidates) void pc.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid });
    },
    closed: () => undefined,
  };
  for (const publisher of publishers) await room.subscribe(name, publisher, signals);
  return {
    packets,
    offer: () => last,
    nack: async (ssrc, lost, reported = []) => {
      const dtls = pc.getTransceivers()[0]!.receiver.dtlsTransport;
      const nack = new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: ssrc, lost }) });
      const blocks = reported.map((s) => new RtcpReceiverInfo({ ssrc: s, fractionLost: 0, packetsLost: 0, highestSequence: 0, jitter: 0, lsr: 0, dlsr: 0 }));
      await dtls.sendRtcp(blocks.length > 0 ? [new RtcpRrPacket({ ssrc: 1, reports: blocks }), nack] : [nack]);
    },
    close: () => void pc.close(),
  };
}
