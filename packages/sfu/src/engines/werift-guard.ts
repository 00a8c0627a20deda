/**
 * A guard on werift's RTP header parser. `RtpHeader.deSerialize` walks a header extension for
 * as many bytes as its length field says, past the end of the packet, and appends each
 * "element" by copying the whole list: a 16-byte packet claiming a 256 KiB extension costs
 * minutes of CPU (O(n²) in the claimed length). werift parses every incoming SRTP packet's
 * header with it *before* authenticating it, so any publisher (a WHIP client, say) could stall
 * the process with one packet. The guard refuses a header that does not fit in the packet —
 * what RFC 3550 §5.3.1 makes malformed anyway — before werift's loop runs; werift's callers
 * already drop a packet whose parse throws ("dropping invalid SRTP packet"). Valid packets
 * parse exactly as before. Installed once, on import of the werift engine.
 */
import { RtpHeader } from 'werift';

const FIXED_HEADER = 12;

/** Whether the fixed header, CSRC list and header extension (RFC 3550 §5.1, §5.3.1) fit in `buf`. */
export function rtpHeaderFits(buf: Uint8Array): boolean {
  if (buf.length < FIXED_HEADER) return false;
  let end = FIXED_HEADER + 4 * (buf[0]! & 0x0f);
  if (buf[0]! & 0x10) {
    if (end + 4 > buf.length) return false;
    end += 4 + 4 * ((buf[end + 2]! << 8) | buf[end + 3]!);
  }
  return end <= buf.length;
}

const GUARDED = Symbol.for('pinhole.werift-rtp-guard');
type Parser = typeof RtpHeader.deSerialize & { [GUARDED]?: true };

export function guardWeriftRtpParser(): void {
  const original = RtpHeader.deSerialize as Parser;
  if (original[GUARDED]) return;
  const guarded: Parser = (rawPacket: Buffer) => {
    if (!rtpHeaderFits(rawPacket)) throw new RangeError('RTP header runs past the end of the packet');
    return original.call(RtpHeader, rawPacket);
  };
  guarded[GUARDED] = true;
  RtpHeader.deSerialize = guarded;
}
