/**
 * The bitrate a publisher may send, as the SFU tells it in REMB (remb.ts): a loss-based
 * estimate in the spirit of draft-ietf-rmcat-gcc-02 §6 (sender side, loss-based control), run
 * at the receiver because the SFU negotiates no transport-wide feedback with publishers
 * (engines/werift.ts says why). Sans-IO: fed with packet arrivals and the time, it answers
 * the estimate at the end of each interval (ESTIMATE_INTERVAL_MS).
 *
 * Per interval: the received rate, and the loss as the sequence numbers missing per SSRC
 * (RFC 3550 A.3: expected − received). Below LOW_LOSS the estimate grows by INCREASE (from
 * the received rate, if that is higher); above HIGH_LOSS it falls to the received rate ·
 * (1 − loss/2); in between it holds. Always within [min, max].
 */

/** Loss below which the estimate grows (gcc §6: 2 %). */
export const LOW_LOSS = 0.02;
/** Loss above which it backs off (gcc §6: 10 %). */
export const HIGH_LOSS = 0.1;
/**
 * Growth per interval without loss (×1.56 per second at ESTIMATE_INTERVAL_MS). Chromium follows a REMB up during its
 * first 2 s of feedback (its "start phase"), then ramps its own target by 8 %/s under the REMB
 * as a ceiling: the ceiling must rise faster than that.
 */
export const INCREASE = 1.25;
/** Chromium's own start estimate: the estimate starts and stays at or above it. */
export const DEFAULT_MIN_BITRATE = 300_000;
/** Default cap per publisher (Sfu option maxPublisherBitrate): Chromium's 720p top layer at its maximum plus the two lower layers. */
export const DEFAULT_MAX_PUBLISHER_BITRATE = 3_000_000;
/** How often the estimate should be updated (and a REMB sent): INCREASE is per update. */
export const ESTIMATE_INTERVAL_MS = 500;

export interface ReceiveEstimatorOptions {
  /** The cap (bit/s). */
  max: number;
  /** The floor and start (bit/s); default DEFAULT_MIN_BITRATE. */
  min?: number;
}

interface SsrcState {
  /** Highest extended sequence number seen (RFC 3550 A.1: cycles · 2^16 + seq). */
  highest: number;
  /** `highest` at the start of the interval. */
  highestBefore: number;
  received: number;
}

export interface EstimateStep {
  /** The new estimate (bit/s). */
  estimate: number;
  /** Received bits per second over the interval. */
  received: number;
  /** Fraction of the expected packets that did not arrive, 0–1. */
  loss: number;
}

export class ReceiveEstimator {
  estimate: number;
  private readonly min: number;
  private readonly max: number;
  private readonly ssrcs = new Map<number, SsrcState>();
  private bytes = 0;
  private intervalStart: number | undefined;

  constructor(options: ReceiveEstimatorOptions) {
    this.max = options.max;
    this.min = Math.min(options.min ?? DEFAULT_MIN_BITRATE, options.max);
    this.estimate = this.min;
  }

  /** One RTP packet of `bytes` with sequence number `seq` arrived on `ssrc`. */
  packet(ssrc: number, seq: number, bytes: number, now: number): void {
    this.intervalStart ??= now;
    this.bytes += bytes;
    const s = this.ssrcs.get(ssrc);
    if (!s) {
      // The first packet: nothing before it was expected.
      this.ssrcs.set(ssrc, { highest: seq, highestBefore: seq - 1, received: 1 });
      return;
    }
    s.received++;
    // The extended sequence number nearest the highest so far (wrap-around, reordering).
    const delta = ((seq - (s.highest & 0xffff) + 0x8000) & 0xffff) - 0x8000;
    if (delta > 0) s.highest += delta;
  }

  /** The SSRCs packets came from: what a REMB lists. */
  get mediaSsrcs(): number[] {
    return [...this.ssrcs.keys()];
  }

  /** Ends the interval (the caller calls this every ESTIMATE_INTERVAL_MS): the new estimate, or undefined before any packet. */
  update(now: number): EstimateStep | undefined {
    if (this.intervalStart === undefined || now <= this.intervalStart) return undefined;
    const received = (this.bytes * 8 * 1000) / (now - this.intervalStart);
    let expected = 0;
    let got = 0;
    for (const s of this.ssrcs.values()) {
      expected += s.highest - s.highestBefore;
      // Retransmissions (NACK) and late packets can outnumber the gap: no negative loss.
      got += Math.min(s.received, s.highest - s.highestBefore);
      s.highestBefore = s.highest;
      s.received = 0;
    }
    const loss = expected > 0 ? (expected - got) / expected : 0;
    if (loss < LOW_LOSS) this.estimate = Math.max(this.estimate, received) * INCREASE;
    else if (loss > HIGH_LOSS) this.estimate = received * (1 - loss / 2);
    this.estimate = Math.round(Math.min(this.max, Math.max(this.min, this.estimate)));
    this.bytes = 0;
    this.intervalStart = now;
    return { estimate: this.estimate, received, loss };
  }
}
