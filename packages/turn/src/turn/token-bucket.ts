/**
 * A token bucket in bytes: `rate` bytes are added per second up to `burst`. Used for the
 * per-allocation bandwidth cap (DEFAULT_BANDWIDTH_BYTES_PER_SECOND); excess is dropped, never
 * queued, which is what UDP media expects.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Take `bytes` if available at time `now` (ms); false means drop the datagram. */
  take(bytes: number, now: number): boolean {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
    }
    if (this.tokens < bytes) return false;
    this.tokens -= bytes;
    return true;
  }
}
