/**
 * Progress of a transfer: bytes done, a smoothed rate and an ETA, emitted at most every
 * progressIntervalMs. The rate is an exponential moving average with time constant
 * RATE_SMOOTHING_MS, weighted by the time between samples so bursty acks do not swing it.
 */
import { RATE_SMOOTHING_MS } from '../defaults.js';

export interface TransferProgress {
  bytes: number;
  total: number;
  /** Bytes per second, smoothed. 0 until two samples exist. */
  rate: number;
  /** Seconds left at `rate`; Infinity while the rate is 0, 0 when complete. */
  eta: number;
}

export class ProgressMeter {
  readonly #total: number;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #bytes = 0;
  #rate = 0;
  #lastAt: number | undefined;
  #lastBytes = 0;
  #lastEmitAt = -Infinity;
  #emittedBytes = -1;

  constructor(total: number, intervalMs: number, now: () => number = () => performance.now()) {
    this.#total = total;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Records that `bytes` are done (never moves back). Returns the event to emit, or
   * undefined while throttled; the sample that reaches the total is always emitted.
   */
  update(bytes: number): TransferProgress | undefined {
    const now = this.#now();
    if (bytes > this.#bytes) this.#bytes = bytes;
    if (this.#lastAt === undefined) {
      this.#lastAt = now;
      this.#lastBytes = this.#bytes;
    } else if (now - this.#lastAt >= 50) {
      const dt = now - this.#lastAt;
      const instant = ((this.#bytes - this.#lastBytes) * 1000) / dt;
      const alpha = this.#rate === 0 ? 1 : 1 - Math.exp(-dt / RATE_SMOOTHING_MS);
      this.#rate += alpha * (instant - this.#rate);
      this.#lastAt = now;
      this.#lastBytes = this.#bytes;
    }
    const complete = this.#bytes >= this.#total;
    if (this.#emittedBytes === this.#bytes) return undefined;
    if (!complete && now - this.#lastEmitAt < this.#intervalMs) return undefined;
    this.#lastEmitAt = now;
    this.#emittedBytes = this.#bytes;
    const left = this.#total - this.#bytes;
    return { bytes: this.#bytes, total: this.#total, rate: this.#rate, eta: left <= 0 ? 0 : this.#rate > 0 ? left / this.#rate : Infinity };
  }
}
