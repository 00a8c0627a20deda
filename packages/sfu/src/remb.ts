/**
 * REMB, Receiver Estimated Maximum Bitrate (draft-alvestrand-rmcat-remb-03 §2.2): an RTCP
 * payload-specific feedback message (PT 206, FMT 15) in which a receiver tells a sender the
 * total bitrate it may send on the listed SSRCs. Negotiated as `a=rtcp-fb:* goog-remb`.
 *
 *    0                   1                   2                   3
 *   |V=2|P| FMT=15  |   PT=206      |             length            |
 *   |                  SSRC of packet sender                        |
 *   |                  SSRC of media source (0)                     |
 *   |  Unique identifier 'R' 'E' 'M' 'B'                            |
 *   |  Num SSRC     | BR Exp    |  BR Mantissa                      |
 *   |   SSRC feedback                                               |  (Num SSRC times)
 */

export const REMB_FMT = 15;
const PSFB = 206;
const UNIQUE_ID = 0x52454d42; // "REMB"
const MANTISSA_MAX = 0x3ffff; // 18 bits

export interface Remb {
  /** Bits per second (mantissa · 2^exp, so rounded down to 18 significant bits). */
  bitrate: number;
  /** The media SSRCs the estimate applies to. */
  ssrcs: number[];
}

/** One REMB packet from `senderSsrc` (the reporting receiver's own SSRC). */
export function encodeRemb(senderSsrc: number, { bitrate, ssrcs }: Remb): Buffer {
  let mantissa = Math.max(0, Math.floor(bitrate));
  let exp = 0;
  while (mantissa > MANTISSA_MAX) {
    mantissa = Math.floor(mantissa / 2);
    exp++;
  }
  const buf = Buffer.alloc(20 + 4 * ssrcs.length);
  buf[0] = 0x80 | REMB_FMT;
  buf[1] = PSFB;
  buf.writeUInt16BE(buf.length / 4 - 1, 2);
  buf.writeUInt32BE(senderSsrc >>> 0, 4);
  buf.writeUInt32BE(0, 8);
  buf.writeUInt32BE(UNIQUE_ID, 12);
  buf[16] = ssrcs.length;
  buf[17] = (exp << 2) | (mantissa >> 16);
  buf.writeUInt16BE(mantissa & 0xffff, 18);
  ssrcs.forEach((ssrc, i) => buf.writeUInt32BE(ssrc >>> 0, 20 + 4 * i));
  return buf;
}

/** The REMB in a (compound, RFC 3550 §6.1) RTCP packet, if any; malformed input is none. */
export function readRemb(rtcp: Buffer): Remb | undefined {
  let offset = 0;
  while (offset + 4 <= rtcp.length) {
    const length = (rtcp.readUInt16BE(offset + 2) + 1) * 4;
    if (rtcp[offset]! >> 6 !== 2 || offset + length > rtcp.length) return undefined;
    const fmt = rtcp[offset]! & 0x1f;
    if (rtcp[offset + 1] === PSFB && fmt === REMB_FMT && length >= 20 && rtcp.readUInt32BE(offset + 12) === UNIQUE_ID) {
      const count = rtcp[offset + 16]!;
      if (length < 20 + 4 * count) return undefined;
      const exp = rtcp[offset + 17]! >> 2;
      const mantissa = ((rtcp[offset + 17]! & 0x03) << 16) | rtcp.readUInt16BE(offset + 18);
      const ssrcs = Array.from({ length: count }, (_, i) => rtcp.readUInt32BE(offset + 20 + 4 * i));
      return { bitrate: mantissa * 2 ** exp, ssrcs };
    }
    offset += length;
  }
  return undefined;
}
