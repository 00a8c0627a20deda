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
 * 16-bit sequence space). The packets are COPIED into the slots: the core lends each packet
 * only for its send (one buffer is rewritten in place for every subscriber in turn). A slot's
 * buffer is made on first use and reused, so the history allocates nothing once full.
 */
export class RtpHistory {
  private readonly slots: (Buffer | undefined)[];
  private readonly lengths: Uint16Array;
  private readonly mask: number;

  constructor(readonly size: number) {
    if (size < 1 || size > 0x10000 || (size & (size - 1)) !== 0) throw new RangeError(`history size ${size} is not a power of two up to 65536`);
    this.slots = new Array<Buffer | undefined>(size);
    this.lengths = new Uint16Array(size);
    this.mask = size - 1;
  }

  /** Keeps a copy of `packet` (RTP: its sequence number at bytes 2–3), replacing the one `size` packets older. */
  store(packet: Buffer): void {
    const i = packet.readUInt16BE(2) & this.mask;
    let slot = this.slots[i];
    if (slot === undefined || slot.length < packet.length) slot = this.slots[i] = Buffer.allocUnsafeSlow(Math.max(packet.length, SLOT_BYTES));
    packet.copy(slot);
    this.lengths[i] = packet.length;
  }

  /** The packet sent with sequence number `seq`, if still held (a view of its slot, valid until the slot is reused). */
  get(seq: number): Buffer | undefined {
    const i = seq & this.mask;
    const slot = this.slots[i];
    return slot !== undefined && this.lengths[i]! >= 12 && slot.readUInt16BE(2) === (seq & 0xffff) ? slot.subarray(0, this.lengths[i]) : undefined;
  }
}

/** A slot holds an RTP packet up to a typical path MTU's worth; a larger one gets a slot of its own size. */
const SLOT_BYTES = 1500;
