/**
 * SSRC, sequence number and timestamp rewriting (RFC 3550 §5.1 fields, RFC 7667 §3.7 "selective
 * forwarding middlebox"): whatever source feeds a subscriber's track — one simulcast layer, then
 * another — the subscriber sees one stream with one SSRC, sequence numbers that continue by one
 * and timestamps that advance with wall-clock time across a switch.
 */

/** Smallest RTP packet: the 12-byte fixed header (RFC 3550 §5.1). */
export const RTP_HEADER_BYTES = 12;

export interface RewriteTarget {
  ssrc: number;
  payloadType: number;
  /** RTP clock rate of the codec (90000 for video): converts the wall-clock gap of a switch into timestamp units. */
  clockRate: number;
}

/** True when 16-bit sequence number a comes after b (serial number arithmetic, RFC 1982, with wraparound). */
export function seqNewer(a: number, b: number): boolean {
  const d = (a - b) & 0xffff;
  return d !== 0 && d < 0x8000;
}

/** A plausible RTP packet: version 2 and at least the fixed header. Anything else is dropped, not parsed. */
export function isRtp(packet: Buffer): boolean {
  return packet.length >= RTP_HEADER_BYTES && packet[0]! >> 6 === 2;
}

export const readSsrc = (packet: Buffer): number => packet.readUInt32BE(8);
export const readSeq = (packet: Buffer): number => packet.readUInt16BE(2);
export const readTimestamp = (packet: Buffer): number => packet.readUInt32BE(4);

export class RtpRewriter {
  private source: number | undefined;
  private seqOffset = 0;
  private tsOffset = 0;
  private lastSeq = 0;
  private lastTs = 0;
  private lastAt = 0;
  /** Source changes seen (the first source included). */
  switches = 0;

  constructor(
    private readonly target: RewriteTarget,
    /** Milliseconds, monotonic; injectable so tests can set the gap of a switch. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Forwarding resumes after a pause: the next packet starts a new source even from the same
   * SSRC, so the subscriber sees no gap of the packets not sent meanwhile (a receiver would
   * count them lost, and NACK them) and its timestamp follows by the time paused.
   */
  restart(): void {
    this.source = undefined;
  }

  /**
   * Rewrites `packet`'s header IN PLACE for this target and returns it, or returns undefined
   * when it is not RTP. The same buffer goes to every subscriber of a source, one after the
   * other: the caller saves the source's header before (RtpHeaderBackup) and puts it back after
   * each send, so each rewrite reads the source's own fields. No copy, no allocation: the fan-out
   * does this once per packet per subscriber (docs/architecture.md, Media server, "Hot path").
   * A packet from a new SSRC starts a new source: its first packet follows the last one sent by
   * one sequence number and by the elapsed time.
   */
  rewrite(packet: Buffer): Buffer | undefined {
    if (!isRtp(packet)) return undefined;
    const ssrc = readSsrc(packet);
    const seq = readSeq(packet);
    const ts = readTimestamp(packet);
    const at = this.now();
    if (ssrc !== this.source) {
      if (this.switches > 0) {
        const elapsed = Math.max(1, Math.round(((at - this.lastAt) * this.target.clockRate) / 1000));
        this.seqOffset = (this.lastSeq + 1 - seq) & 0xffff;
        this.tsOffset = (this.lastTs + elapsed - ts) >>> 0;
      }
      this.source = ssrc;
      this.switches++;
      this.lastSeq = (seq + this.seqOffset - 1) & 0xffff;
    }
    const outSeq = (seq + this.seqOffset) & 0xffff;
    const outTs = (ts + this.tsOffset) >>> 0;
    // Late (reordered) packets keep their place but do not move the stream's head.
    if (seqNewer(outSeq, this.lastSeq)) {
      this.lastSeq = outSeq;
      this.lastTs = outTs;
      this.lastAt = at;
    }
    packet[1] = (packet[1]! & 0x80) | (this.target.payloadType & 0x7f);
    packet.writeUInt16BE(outSeq, 2);
    packet.writeUInt32BE(outTs, 4);
    packet.writeUInt32BE(this.target.ssrc >>> 0, 8);
    return packet;
  }
}

/**
 * The 12-byte fixed header of one source packet, saved before the fan-out rewrites it in place
 * for each subscriber and restored after each send (RtpRewriter.rewrite).
 */
export class RtpHeaderBackup {
  private w0 = 0;
  private w1 = 0;
  private w2 = 0;

  save(packet: Buffer): void {
    this.w0 = packet.readUInt32BE(0);
    this.w1 = packet.readUInt32BE(4);
    this.w2 = packet.readUInt32BE(8);
  }

  restore(packet: Buffer): void {
    packet.writeUInt32BE(this.w0, 0);
    packet.writeUInt32BE(this.w1, 4);
    packet.writeUInt32BE(this.w2, 8);
  }
}
