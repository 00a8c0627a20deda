/**
 * Latency histogram: fixed 10 µs buckets up to 10 s (1 M buckets, 4 MB), one overflow bucket.
 * Exact enough for p50/p99 of signaling latencies, cheap to record (one increment), and
 * mergeable across generator processes (sent over IPC as sparse [index, count] pairs).
 */
const BUCKET_US = 10;
const BUCKETS = 1_000_000; // 10 µs × 1e6 = 10 s

export class Histogram {
  constructor() {
    this.counts = new Uint32Array(BUCKETS + 1);
    this.total = 0;
    this.max = 0;
  }

  /** @param {number} ms latency in milliseconds */
  record(ms) {
    let i = Math.floor((ms * 1000) / BUCKET_US);
    if (i < 0) i = 0;
    if (i > BUCKETS) i = BUCKETS;
    this.counts[i]++;
    this.total++;
    if (ms > this.max) this.max = ms;
  }

  reset() {
    this.counts.fill(0);
    this.total = 0;
    this.max = 0;
  }

  toSparse() {
    const pairs = [];
    for (let i = 0; i <= BUCKETS; i++) if (this.counts[i] !== 0) pairs.push(i, this.counts[i]);
    return { pairs, total: this.total, max: this.max };
  }

  addSparse({ pairs, total, max }) {
    for (let k = 0; k < pairs.length; k += 2) this.counts[pairs[k]] += pairs[k + 1];
    this.total += total;
    if (max > this.max) this.max = max;
  }

  /** @param {number} q quantile in [0, 1]; returns ms (upper edge of the bucket) or NaN if empty */
  quantile(q) {
    if (this.total === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return i === BUCKETS ? this.max : ((i + 1) * BUCKET_US) / 1000;
    }
    return this.max;
  }
}
