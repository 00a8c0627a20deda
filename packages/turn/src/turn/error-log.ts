import { ERROR_LOG_BURST, ERROR_LOG_INTERVAL_MS } from '../defaults.js';
import type { TurnLogger } from '../options.js';
import { TokenBucket } from './token-bucket.js';

/**
 * Rate-limited error logging (ERROR_LOG_BURST, then one line per ERROR_LOG_INTERVAL_MS): the
 * errors it reports are triggered by packets, which anyone can send. The next line logged after
 * a quiet spell says how many were left out (`suppressed`).
 */
export class ErrorLog {
  private readonly bucket: TokenBucket;
  private suppressed = 0;

  constructor(
    private readonly logger: TurnLogger | undefined,
    private readonly now: () => number,
  ) {
    // One token per line; the bucket counts lines, not bytes here.
    this.bucket = new TokenBucket(1000 / ERROR_LOG_INTERVAL_MS, ERROR_LOG_BURST, now());
  }

  error(obj: object, msg: string): void {
    if (!this.logger) return;
    if (!this.bucket.take(1, this.now())) {
      this.suppressed++;
      return;
    }
    this.logger.error(this.suppressed > 0 ? { ...obj, suppressed: this.suppressed } : obj, msg);
    this.suppressed = 0;
  }
}
