/** REMB (remb.ts) through werift: to a publisher, and from a viewer's RTCP (werift-viewer.ts). */
import { ReceiverEstimatedMaxBitrate, RtcpPayloadSpecificFeedback, type RTCPeerConnection, type RtcpPacket } from 'werift';
import { encodeRemb, type Remb } from '../remb.js';

/** Sends `remb` to the remote of `pc` (its receivers share the BUNDLE transport), from the receivers' RTCP SSRC. */
export function sendRemb(pc: RTCPeerConnection, remb: Remb): void {
  const receiver = pc.getTransceivers().find((t) => t.receiver.dtlsTransport)?.receiver;
  if (!receiver) return;
  // werift parses REMB but builds none: its own class, from the draft's bytes (after the 4-byte RTCP header).
  const feedback = ReceiverEstimatedMaxBitrate.deSerialize(encodeRemb(receiver.rtcpSsrc, remb).subarray(4));
  receiver.dtlsTransport.sendRtcp([new RtcpPayloadSpecificFeedback({ feedback })]).catch(() => undefined);
}

/** The bitrate of the REMB among `packets`, if any. */
export function rembBitrate(packets: RtcpPacket[]): number | undefined {
  for (const p of packets) {
    if (p instanceof RtcpPayloadSpecificFeedback && p.feedback instanceof ReceiverEstimatedMaxBitrate) return Number(p.feedback.bitrate);
  }
  return undefined;
}
