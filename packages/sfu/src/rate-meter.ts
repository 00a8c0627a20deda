/** A stream's bitrate, from the bytes seen between samples, smoothed over the last few. */

/** Weight of the newest sample in the smoothed rate (an exponential moving average). */
const NEWEST_WEIGHT = 0.5;
/** Samples without a byte after which the stream counts as stopped (rate 0): a paused simulcast layer. */
export const IDLE_SAMPLES = 2;

export class RateMeter {
  private bytes = 0;
  private idle = 0;
  /** Bits per second as of the last sample; 0 before the first, and after IDLE_SAMPLES without a byte. */
  rate = 0;

  /** `sampledAt`: when the stream started (the first sample measures from there). */
  constructor(private sampledAt: number) {}

  add(bytes: number): void {
    this.bytes += bytes;
  }

  /** Folds the bytes since the previous sample into `rate`; returns it. */
  sample(now: number): number {
    if (now > this.sampledAt) {
      const instant = (this.bytes * 8 * 1000) / (now - this.sampledAt);
      this.idle = this.bytes === 0 ? this.idle + 1 : 0;
      if (this.idle >= IDLE_SAMPLES) this.rate = 0;
      else this.rate = this.rate === 0 ? instant : NEWEST_WEIGHT * instant + (1 - NEWEST_WEIGHT) * this.rate;
    }
    this.bytes = 0;
    this.sampledAt = now;
    return this.rate;
  }
}
