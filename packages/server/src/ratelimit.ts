/** Token bucket: `rate` tokens per second up to `burst` (0 or Infinity: unlimited); the clock is injected. */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#last = now;
  }

  /** Takes one token; false when the bucket is empty. */
  // Twin: cluster/lua/lib.lua take.
  take(now: number): boolean {
    if (this.rate === Infinity || this.rate === 0) return true; // 0 = no limit, as welcome.limits says
    const elapsed = now - this.#last;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.rate) / 1000);
      this.#last = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
