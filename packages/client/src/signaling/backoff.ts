import { DEFAULT_RECONNECT } from '../defaults.js';
import { SignalingError } from './errors.js';

/** Exponential backoff with jitter for reconnect attempts; each field defaults to its DEFAULT_RECONNECT entry. */
export interface ReconnectOptions {
  /** First delay. */
  initialDelayMs: number;
  /** Ceiling. */
  maxDelayMs: number;
  /** Growth per attempt. */
  factor: number;
  /** 0…1: each delay is drawn uniformly from [d × (1 − jitter), d]. */
  jitter: number;
  /** Give up after this many attempts. */
  maxAttempts: number;
}

export class Backoff {
  readonly options: ReconnectOptions;
  attempt = 0;

  constructor(options: Partial<ReconnectOptions> = {}, private readonly random: () => number = Math.random) {
    this.options = { ...DEFAULT_RECONNECT, ...options };
    const o = this.options;
    if (!(o.initialDelayMs >= 0 && o.maxDelayMs >= o.initialDelayMs && o.factor >= 1 && o.jitter >= 0 && o.jitter <= 1 && o.maxAttempts >= 1)) {
      throw new SignalingError('bad-option', `invalid reconnect options ${JSON.stringify(o)}`);
    }
  }

  /** The next delay in ms, or undefined once maxAttempts is used up. */
  next(): number | undefined {
    if (this.attempt >= this.options.maxAttempts) return undefined;
    const { initialDelayMs, maxDelayMs, factor, jitter } = this.options;
    const ceiling = Math.min(maxDelayMs, initialDelayMs * factor ** this.attempt++);
    return Math.round(ceiling * (1 - jitter * this.random()));
  }

  reset(): void {
    this.attempt = 0;
  }
}
