import { describe, expect, it } from 'vitest';
import { DEFAULT_MIN_BITRATE, HIGH_LOSS, INCREASE, ReceiveEstimator } from '../src/receive-estimator.js';
import { IDLE_SAMPLES, RateMeter } from '../src/rate-meter.js';

/** Feeds `perInterval` packets of 1000 bytes on `ssrc` over 500 ms, skipping the sequence numbers in `lost`, then updates. */
function interval(e: ReceiveEstimator, at: { now: number; seq: number }, perInterval: number, lost = new Set<number>(), ssrc = 1) {
  for (let i = 0; i < perInterval; i++) {
    at.seq = (at.seq + 1) & 0xffff;
    at.now += 500 / perInterval;
    if (!lost.has(i)) e.packet(ssrc, at.seq, 1000, at.now);
  }
  return e.update(at.now);
}

describe('ReceiveEstimator', () => {
  it('starts at the floor and answers nothing before the first packet', () => {
    const e = new ReceiveEstimator({ max: 3_000_000 });
    expect(e.estimate).toBe(DEFAULT_MIN_BITRATE);
    expect(e.update(1000)).toBeUndefined();
  });

  it('ramps up by INCREASE per interval without loss, to the cap', () => {
    const e = new ReceiveEstimator({ max: 1_000_000 });
    const at = { now: 0, seq: 65_530 }; // wraps around
    const steps = [1, 2, 3, 4, 5, 6].map(() => interval(e, at, 20)!);
    expect(steps.every((s) => s.loss === 0)).toBe(true);
    expect(steps[0]!.estimate).toBe(Math.round(Math.max(DEFAULT_MIN_BITRATE, steps[0]!.received) * INCREASE));
    expect(steps[1]!.estimate).toBe(Math.round(steps[0]!.estimate * INCREASE));
    expect(steps.at(-1)!.estimate).toBe(1_000_000);
  });

  it('grows from the received rate when that is above the estimate', () => {
    const e = new ReceiveEstimator({ max: 10_000_000 });
    const at = { now: 0, seq: 0 };
    const step = interval(e, at, 200)!; // 200 kB in 0.5 s ≈ 3.2 Mbit/s
    expect(step.received).toBeGreaterThan(3_000_000);
    expect(step.estimate).toBe(Math.round(step.received * INCREASE));
  });

  it('backs off to received · (1 − loss/2) above HIGH_LOSS, not below the floor', () => {
    const e = new ReceiveEstimator({ max: 10_000_000 });
    const at = { now: 0, seq: 0 };
    for (let i = 0; i < 8; i++) interval(e, at, 100);
    const before = e.estimate;
    const lost = new Set(Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 5 === 0)); // 20 %
    const step = interval(e, at, 100, lost)!;
    expect(step.loss).toBeCloseTo(0.2, 2);
    expect(step.loss).toBeGreaterThan(HIGH_LOSS);
    expect(step.estimate).toBe(Math.round(step.received * 0.9));
    expect(step.estimate).toBeLessThan(before);
    const tiny = new ReceiveEstimator({ max: 10_000_000 });
    const t = { now: 0, seq: 0 };
    expect(interval(tiny, t, 10, new Set([0, 2, 4, 6, 8]))!.estimate).toBe(DEFAULT_MIN_BITRATE);
  });

  it('holds between LOW_LOSS and HIGH_LOSS', () => {
    const e = new ReceiveEstimator({ max: 10_000_000 });
    const at = { now: 0, seq: 0 };
    interval(e, at, 100);
    const before = e.estimate;
    expect(interval(e, at, 100, new Set([10, 50, 90, 95, 99]))!.estimate).toBe(before); // 5 %
  });

  it('counts reordered packets and retransmissions as received, never as negative loss', () => {
    const e = new ReceiveEstimator({ max: 10_000_000 });
    e.packet(1, 10, 100, 0);
    e.packet(1, 12, 100, 10);
    e.packet(1, 11, 100, 20); // late
    e.packet(1, 12, 100, 30); // again (NACK)
    e.packet(2, 500, 100, 40); // another SSRC (a simulcast layer)
    expect(e.update(500)!.loss).toBe(0);
    expect(e.mediaSsrcs).toEqual([1, 2]);
  });
});

describe('RateMeter', () => {
  it('measures bits per second between samples, smoothed, and drops to 0 after IDLE_SAMPLES without a byte', () => {
    const m = new RateMeter(0);
    m.add(12_500);
    expect(m.sample(100)).toBe(1_000_000);
    m.add(25_000);
    expect(m.sample(200)).toBe(1_500_000); // half the new 2 Mbit/s
    expect(m.sample(300)).toBe(750_000); // one silent sample: still sent
    for (let i = 1; i < IDLE_SAMPLES; i++) m.sample(300 + 100 * i);
    expect(m.rate).toBe(0);
  });
});
