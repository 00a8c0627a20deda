/**
 * Generic NACK (RFC 4585 §6.2.1): RTCP transport-layer feedback (PT 205, FMT 1) whose FCI
 * entries each name a lost packet (PID) and, in a bitmask (BLP), which of the 16 following
 * ones are lost too. Read from raw compound RTCP here, packet by packet within each one's own
 * length: werift's GenericNack parser reads its FCI entries on to the end of the buffer, so
 * in Chromium's compound packets (NACK before other reports) it returned the packets after
 * it as lost sequence numbers too (measured: ≈ 21 per NACK instead of 1). And the history
 * the packets are resent from (RtpHistory).
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

/**
 * The last packets sent on one outgoing track, by sequence number, to resend on NACK: a ring
 * of `size` slots (a power of two dividing 65536, so a slot always holds one residue of the
 * 16-bit sequence space). Holding a packet is one array store; the packets are the rewritten
 * copies the core made for this subscriber anyway.
 */
export class RtpHistory {
  private readonly packets: (Buffer | undefined)[];
  private readonly mask: number;

  constructor(readonly size: number) {
    if (size < 1 || size > 0x10000 || (size & (size - 1)) !== 0) throw new RangeError(`history size ${size} is not a power of two up to 65536`);
    this.packets = new Array<Buffer | undefined>(size);
    this.mask = size - 1;
  }

  /** Keeps `packet` (RTP: its sequence number at bytes 2–3), replacing the one `size` packets older. */
  store(packet: Buffer): void {
    this.packets[packet.readUInt16BE(2) & this.mask] = packet;
  }

  /** The packet sent with sequence number `seq`, if still held. */
  get(seq: number): Buffer | undefined {
    const packet = this.packets[seq & this.mask];
    return packet !== undefined && packet.readUInt16BE(2) === (seq & 0xffff) ? packet : undefined;
  }
}
