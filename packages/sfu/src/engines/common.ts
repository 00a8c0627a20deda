import { GenericNack, PictureLossIndication, RtcpPacketConverter, RtcpPayloadSpecificFeedback, RtcpTransportLayerFeedback, type RtcpPacket } from 'werift';
import { SfuError, type MediaKind } from '../engine.js';

export { waitUntil } from '../wait.js';

const FIR_FMT = 4;

/** True for RTCP that asks for a keyframe: PLI (RFC 4585 §6.3.1) or FIR (RFC 5104 §4.3.1). */
export function asksKeyframe(packets: RtcpPacket[]): boolean {
  return packets.some(
    (p) =>
      p instanceof RtcpPayloadSpecificFeedback &&
      // FMT 1 is PLI, FMT 4 FIR (werift does not export its FullIntraRequest class).
      (p.feedback instanceof PictureLossIndication || p.feedback.count === FIR_FMT),
  );
}

/**
 * The sequence numbers of media source `ssrc` that a compound RTCP packet's Generic NACKs
 * (RFC 4585 §6.2.1) ask for again. A compound packet reaches every track it names, so the
 * NACKs about other SSRCs are left to their own tracks.
 */
export function nackedSequenceNumbers(packets: RtcpPacket[], ssrc: number): number[] {
  const lost: number[] = [];
  for (const p of packets) {
    if (p instanceof RtcpTransportLayerFeedback && p.feedback instanceof GenericNack && p.feedback.mediaSourceSsrc >>> 0 === ssrc >>> 0) lost.push(...p.feedback.lost);
  }
  return lost;
}

/** Parses a compound RTCP packet; malformed input is no feedback rather than an exception. */
export function parseRtcp(buf: Buffer): RtcpPacket[] {
  try {
    return RtcpPacketConverter.deSerialize(buf);
  } catch {
    return [];
  }
}

/** RTCP packet types 192–223 (RFC 5761 §4): what an RTP/RTCP-muxed message is, by its second byte. */
export const isRtcp = (buf: Buffer): boolean => buf.length >= 8 && buf[1]! >= 192 && buf[1]! <= 223;

/** Codecs the SFU forwards, with the payload types it offers to subscribers. */
export const OFFERED: Record<string, { kind: MediaKind; payloadType: number; clockRate: number; mimeType: string }> = {
  'video/vp8': { kind: 'video', payloadType: 96, clockRate: 90000, mimeType: 'video/VP8' },
  'video/h264': { kind: 'video', payloadType: 102, clockRate: 90000, mimeType: 'video/H264' },
  'audio/opus': { kind: 'audio', payloadType: 111, clockRate: 48000, mimeType: 'audio/opus' },
  'audio/pcmu': { kind: 'audio', payloadType: 0, clockRate: 8000, mimeType: 'audio/PCMU' },
  'audio/pcma': { kind: 'audio', payloadType: 8, clockRate: 8000, mimeType: 'audio/PCMA' },
};

export function offeredCodec(mimeType: string): (typeof OFFERED)[string] {
  const codec = OFFERED[mimeType.toLowerCase()];
  if (!codec) throw new SfuError('unsupported-codec', `codec ${mimeType} is not forwarded (VP8, H264, opus, PCMU, PCMA are)`);
  return codec;
}

let counter = 0;
export const nextId = (prefix: string): string => `${prefix}${++counter}`;
