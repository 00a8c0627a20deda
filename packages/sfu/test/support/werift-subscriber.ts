/**
 * A member's subscriber session answered by werift (pure TypeScript), for what the
 * node-datachannel test peers cannot do: send RTCP the test crafts. A libdatachannel track
 * that only receives drops raw RTCP given to sendMessageBinary (its direction forbids
 * sending), while werift's DTLS transport sends any RTCP packet.
 */
import { RTCPeerConnection, RtcpTransportLayerFeedback, GenericNack } from 'werift';
import type { Room } from '../../src/index.js';
import { until } from '@pinhole/test-kit/wait';

export interface WeriftSubscriber {
  /** Copies of the RTP packets received, by SSRC, then by sequence number (each arrival). */
  packets: Map<number, Map<number, Buffer[]>>;
  /** The last offer's SDP. */
  offer(): string;
  /** Sends one Generic NACK (RFC 4585 §6.2.1) for `lost` sequence numbers of `ssrc`. */
  nack(ssrc: number, lost: number[]): Promise<void>;
  close(): void;
}

/** `name` subscribes to `publisher` in `room`, answered by a werift peer connection. */
export async function weriftSubscriber(room: Room, name: string, publisher: string): Promise<WeriftSubscriber> {
  const pc = new RTCPeerConnection({ iceUseIpv6: false });
  const packets = new Map<number, Map<number, Buffer[]>>();
  pc.onTrack.subscribe((track) =>
    track.onReceiveRtp.subscribe((rtp) => {
      const bySeq = packets.get(rtp.header.ssrc) ?? new Map<number, Buffer[]>();
      packets.set(rtp.header.ssrc, bySeq);
      const arrivals = bySeq.get(rtp.header.sequenceNumber) ?? [];
      arrivals.push(Buffer.from(rtp.payload));
      bySeq.set(rtp.header.sequenceNumber, arrivals);
    }),
  );
  let last = '';
  let chain = Promise.resolve();
  await room.subscribe(name, publisher, {
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
  });
  return {
    packets,
    offer: () => last,
    nack: async (ssrc, lost) => {
      const dtls = pc.getTransceivers()[0]!.receiver.dtlsTransport;
      await dtls.sendRtcp([new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: ssrc, lost }) })]);
    },
    close: () => void pc.close(),
  };
}
