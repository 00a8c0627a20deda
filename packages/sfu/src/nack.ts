/**
 * Generic NACK (RFC 4585 §6.2.1): RTCP transport-layer feedback (PT 205, FMT 1) whose FCI
 * entries each name a lost packet (PID) and, in a bitmask (BLP), which of the 16 following
 * ones are lost too. Read from raw compound RTCP here, packet by packet within each one's own
 * length: werift's GenericNack parser reads its FCI entries on to the end of the buffer, so
 * in Chromium's compound packets (NACK before other reports) it returned the packets after
 * it as lost sequence numbers too (measured: ≈ 21 per NACK instead of 1).
 */

/** RTPFB, transport-layer feedback (RFC 4585 §6.1). */
export const RTPFB = 205;
/** Generic NACK's FMT (RFC 4585 §6.2.1). */
export const GENERIC_NACK_FMT = 1;

/** The sequence numbers of media source `ssrc` that the Generic NACKs in compound RTCP `buf` ask for. */
export function readNacks(buf: Uint8Array, ssrc: number): number[] {
  const lost: number[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let offset = 0; offset + 4 <= buf.length; ) {
    const length = 4 * (view.getUint16(offset + 2) + 1);
    if (buf[offset]! >> 6 !== 2 || offset + length > buf.length) break;
    const fmt = buf[offset]! & 0x1f;
    if (buf[offset + 1] === RTPFB && fmt === GENERIC_NACK_FMT && length >= 12 && view.getUint32(offset + 8) === ssrc >>> 0) {
      for (let fci = offset + 12; fci + 4 <= offset + length; fci += 4) {
        const pid = view.getUint16(fci);
        const blp = view.getUint16(fci + 2);
        lost.push(pid);
        for (let bit = 0; bit < 16; bit++) if (blp & (1 << bit)) lost.push((pid + bit + 1) & 0xffff);
      }
    }
    offset += length;
  }
  return lost;
}
