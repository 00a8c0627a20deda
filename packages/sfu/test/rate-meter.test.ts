import { describe, expect, it } from 'vitest';
import { IDLE_SAMPLES, RateMeter } from '../src/rate-meter.js';

describe('RateMeter', () => {
  it('measures bits per second between samples, smoothed, and 0 once the stream stops', () => {
    const meter = new RateMeter(0);
    meter.add(62_500); // 500 kbit in 1 s
    expect(meter.sample(1000)).toBe(500_000);
    meter.add(125_000); // 1 Mbit in 1 s: halfway there
    expect(meter.sample(2000)).toBe(750_000);
    expect(meter.sample(3000)).toBeGreaterThan(0); // one empty sample: not yet stopped
    for (let i = 1; i < IDLE_SAMPLES; i++) meter.sample(3000 + i * 1000);
    expect(meter.rate).toBe(0);
  });
});
