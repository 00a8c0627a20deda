import { describe, expect, it } from 'vitest';
import { DOWN_MARGIN, LayerPolicy, MAX_UP_HOLD_MS, PROBE_MS, UP_HOLD_MS } from '../src/layer-policy.js';

const RIDS = ['q', 'h', 'f'];
/** Chromium's three layers at a 720p camera, roughly (bit/s). */
const SENT: Record<string, number> = { q: 150_000, h: 500_000, f: 1_500_000 };

function setup(requested: string | null = 'f', rates: Record<string, number> = SENT) {
  let now = 0;
  const policy = new LayerPolicy(RIDS, requested);
  const rate = (rid: string): number => rates[rid] ?? 0;
  return {
    policy,
    rates,
    /** One REMB of `bitrate`, then a decision. */
    remb: (bitrate: number) => {
      now += 500;
      policy.estimated(bitrate, now);
      return policy.update(rate, now);
    },
    /** Decisions every 500 ms for `ms`, REMB `bitrate` before each (a receiver repeats its estimate). */
    during: (ms: number, bitrate: number) => {
      const seen = new Set<string | undefined | null>();
      for (let t = 0; t < ms; t += 500) {
        now += 500;
        policy.estimated(bitrate, now);
        seen.add(policy.update(rate, now));
      }
      return seen;
    },
    tick: () => policy.update(rate, (now += 500)),
    /** REMBs of `bitrate` every 500 ms until the layer changes: how long that took. */
    untilSwitch: (bitrate: number) => {
      const start = policy.chosen;
      let ms = 0;
      while (policy.chosen === start && ms < 10 * MAX_UP_HOLD_MS) {
        now += 500;
        ms += 500;
        policy.estimated(bitrate, now);
        policy.update(rate, now);
      }
      return ms;
    },
    request: (rid: string | null) => policy.request(rid, now),
  };
}

describe('LayerPolicy', () => {
  it('gives the requested layer while no estimate came', () => {
    const { tick, policy } = setup('f');
    expect(tick()).toBe('f');
    expect(policy.downs + policy.ups).toBe(0);
  });

  it('switches down at once to the highest layer that fits a low estimate', () => {
    const { remb, policy } = setup('f');
    expect(remb(600_000)).toBe('h');
    expect(policy.downs).toBe(1);
    const low = setup('f');
    expect(low.remb(200_000)).toBe('q');
    // Nothing fits: the lowest layer still goes.
    const none = setup('f');
    expect(none.remb(50_000)).toBe('q');
  });

  it(`keeps a layer whose rate is within the margin (${DOWN_MARGIN}) of the estimate`, () => {
    const { remb } = setup('f');
    expect(remb(SENT.f! * (DOWN_MARGIN + 0.05))).toBe('f');
  });

  it('does not switch down while the estimate rises (a receiver catching up with a higher rate it just got)', () => {
    const { remb } = setup('f');
    expect(remb(1_500_000)).toBe('f');
    // An explicit request for f just came: only a REMB after it may bring the layer down.
    const fresh = setup('q');
    fresh.request('f');
    expect(fresh.tick()).toBe('f');
    expect(fresh.remb(300_000)).toBe('q'); // the first estimate (not rising), and h's 500 k does not fit either
    const rising = setup('f');
    rising.remb(1_600_000);
    expect(rising.remb(200_000)).toBe('q'); // a fall
    const catching = setup('q');
    catching.remb(200_000);
    catching.request('f');
    expect(catching.remb(300_000)).toBe('f'); // rising after the request: kept
    expect(catching.remb(330_000)).toBe('f');
    expect(catching.remb(330_000)).toBe('q'); // it stopped rising, short of f and of h
  });

  it(`goes up only after ${UP_HOLD_MS} ms of headroom, to the highest layer that fits, never above the request`, () => {
    const { remb, untilSwitch, policy } = setup('f');
    expect(remb(200_000)).toBe('q');
    // The first REMB with headroom starts the hold; the one UP_HOLD_MS later switches.
    expect(untilSwitch(5_000_000)).toBe(UP_HOLD_MS + 500);
    expect(policy.chosen).toBe('f');
    expect(policy.ups).toBe(1);
    const capped = setup('h');
    capped.remb(200_000);
    expect(capped.during(UP_HOLD_MS + 1000, 5_000_000)).toEqual(new Set(['q', 'h']));
  });

  it('counts an estimate of HEADROOM × the current rate as room for the next layer up (a receiver never estimates far above what it gets)', () => {
    const { remb, during } = setup('f');
    expect(remb(160_000)).toBe('q');
    // 1.5 × q's 150 k + 10 k, what Chromium reports when nothing limits it: short of h's 500 k.
    expect([...during(UP_HOLD_MS + 500, 235_000)]).toEqual(['q', 'h']);
  });

  it('backs off: an up-switch undone within the hold doubles the hold, to MAX_UP_HOLD_MS', () => {
    const { remb, untilSwitch, during, policy } = setup('f');
    expect(remb(100_000)).toBe('q');
    const holds: number[] = [];
    for (let round = 0; round < 5; round++) {
      // The receiver says 1.5 × q's rate (room to try h)...
      holds.push(untilSwitch(235_000) - 500);
      expect(policy.chosen).toBe('h');
      // ...and then h does not fit.
      expect(remb(230_000)).toBe('q');
    }
    expect(holds).toEqual([UP_HOLD_MS, 2 * UP_HOLD_MS, 4 * UP_HOLD_MS, MAX_UP_HOLD_MS, MAX_UP_HOLD_MS]);
    // An up-switch that lasts longer than its hold resets it.
    untilSwitch(235_000);
    expect(during(MAX_UP_HOLD_MS + 500, 450_000)).toEqual(new Set(['h']));
    expect(remb(300_000)).toBe('q');
    expect(untilSwitch(235_000)).toBe(UP_HOLD_MS + 500);
  });

  it(`keeps a layer it stepped up to for ${PROBE_MS} ms while the estimate does not fall below the one it stepped up on (a receiver's lagging, repeated estimate)`, () => {
    const { remb, untilSwitch, during, policy } = setup('f');
    expect(remb(100_000)).toBe('q');
    untilSwitch(235_000);
    expect(policy.chosen).toBe('h');
    const downs = policy.downs;
    // The same 235 k, repeated (not rising), then growing as a receiver's does: h stays.
    expect(during(4_000, 235_000)).toEqual(new Set(['h']));
    for (let b = 250_000; b < 420_000; b *= 1.04) expect(remb(b)).toBe('h');
    expect(policy.downs).toBe(downs);
    // Still short of h after the probe, and not rising: down.
    const stuck = setup('f');
    stuck.remb(100_000);
    stuck.untilSwitch(235_000);
    expect([...stuck.during(PROBE_MS + 500, 235_000)]).toEqual(['h', 'q']);
  });

  it('falls back from a layer the publisher does not send to the highest one it sends, and climbs back when it comes', () => {
    const rates: Record<string, number> = { q: 150_000, h: 0, f: 0 };
    const { tick, policy } = setup('f', rates);
    expect(tick()).toBe('q');
    rates.h = 500_000;
    expect(tick()).toBe('h');
    rates.f = 1_500_000;
    expect(tick()).toBe('f');
    rates.f = 0;
    expect(tick()).toBe('h');
    expect(policy.downs + policy.ups).toBe(0); // not bandwidth's doing
  });

  it('climbs back at once after a missing layer even with an estimate, up to what the request allows', () => {
    const rates: Record<string, number> = { q: 150_000, h: 500_000, f: 0 };
    const { remb, tick } = setup('f', rates);
    expect(tick()).toBe('h');
    expect(remb(5_000_000)).toBe('h');
    rates.f = 1_500_000;
    expect(remb(5_000_000)).toBe('f');
  });

  it('takes a lower request at once and a paused subscription as paused', () => {
    const { request, tick, remb } = setup('f');
    remb(5_000_000);
    request('h');
    expect(tick()).toBe('h');
    request(null);
    expect(remb(5_000_000)).toBeNull();
  });

  it('leaves single-layer video and audio alone', () => {
    const policy = new LayerPolicy([], undefined);
    policy.estimated(10_000, 0);
    expect(policy.update(() => 500_000, 1000)).toBeUndefined();
  });
});
