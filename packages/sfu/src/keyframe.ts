/**
 * Where a keyframe starts: the only place a subscriber can be switched to another simulcast
 * layer, because its decoder needs nothing from before it.
 */
import { Vp8RtpPayload } from 'werift';
import { RTP_HEADER_BYTES, isRtp } from './rewriter.js';

/**
 * RTP payload after the fixed header, CSRCs and header extension (RFC 3550 §5.1, §5.3.1), or
 * undefined when those lengths run past the packet. Computed here rather than with werift's
 * RtpHeader.deSerialize: given an extension length past the end of the packet it walks every
 * missing byte as a one-byte element, copying its element array each time (quadratic: minutes
 * of CPU for one 23-byte packet; found by keyframe.test.ts).
 */
export function rtpPayload(packet: Buffer): Buffer | undefined {
  if (!isRtp(packet)) return undefined;
  let offset = RTP_HEADER_BYTES + 4 * (packet[0]! & 0x0f);
  if (packet[0]! & 0x10) {
    if (offset + 4 > packet.length) return undefined;
    offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  }
  return offset < packet.length ? packet.subarray(offset) : undefined;
}

/** VP8 (RFC 7741 §4.3): the first packet of a key frame has S=1, PID=0 and the P bit of the payload header clear. */
export function isVp8KeyframeStart(payload: Buffer): boolean {
  if (payload.length < 2) return false;
  try {
    const vp8 = Vp8RtpPayload.deSerialize(payload);
    return vp8.payloadHeaderExist && vp8.isKeyframe;
  } catch {
    return false;
  }
}

const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_STAP_A = 24;
const NAL_FU_A = 28;

/**
 * H.264 (RFC 6184 §5.6–5.8): a packet that carries a sequence parameter set or starts an IDR
 * picture — a single NAL unit, any unit of a STAP-A, or the first fragment (S bit) of an FU-A.
 * Written here rather than taken from werift because werift's H264RtpPayload.isKeyframe does not
 * look inside STAP-A, where Chromium puts SPS and PPS ahead of each IDR: switching on the IDR
 * fragment that follows would drop the parameter sets the new layer's decoder needs.
 */
export function isH264KeyframeStart(payload: Buffer): boolean {
  if (payload.length < 1) return false;
  const type = payload[0]! & 0x1f;
  if (type === NAL_SPS || type === NAL_IDR) return true;
  if (type === NAL_STAP_A) {
    for (let at = 1; at + 2 < payload.length; ) {
      const size = payload.readUInt16BE(at);
      const unit = payload[at + 2]! & 0x1f;
      if (unit === NAL_SPS || unit === NAL_IDR) return true;
      at += 2 + size;
    }
    return false;
  }
  if (type === NAL_FU_A && payload.length >= 2) {
    const fu = payload[1]!;
    return (fu & 0x80) !== 0 && (fu & 0x1f) === NAL_IDR;
  }
  return false;
}

/** Keyframe start for the codec named by mimeType ("video/VP8", "video/H264"); other codecs never (audio needs no keyframe). */
export function isKeyframeStart(mimeType: string, packet: Buffer): boolean {
  const payload = rtpPayload(packet);
  if (!payload) return false;
  switch (mimeType.toLowerCase()) {
    case 'video/vp8':
      return isVp8KeyframeStart(payload);
    case 'video/h264':
      return isH264KeyframeStart(payload);
    default:
      return false;
  }
}
