import { describe, expect, it } from 'vitest';
import { LoudestFew } from '../src/loudest.js';

/** A ranking as ActiveSpeakerDetector.ranking gives it: most active first. */
const rank = (activity: Record<string, number>): { peer: string; activity: number }[] =>
  Object.entries(activity)
    .map(([peer, a]) => ({ peer, activity: a }))
    .sort((x, y) => y.activity - x.activity);

const quietOnes = (l: LoudestFew, peers: string[]): string[] => peers.filter((p) => l.quiet(p));

describe('LoudestFew', () => {
  it('forwards everyone while the room has no more publishers than max', () => {
    const l = new LoudestFew({ max: 3 });
    expect(l.update(rank({ a: 0.9, b: 0, c: 0.1 }), 0)).toBeUndefined();
    expect(quietOnes(l, ['a', 'b', 'c'])).toEqual([]);
  });

  it('above max, quiets all but the most active at once', () => {
    const l = new LoudestFew({ max: 2 });
    expect(l.update(rank({ a: 0.5, b: 0.1, c: 0.7, d: 0 }), 0)).toEqual({ on: [], off: ['b', 'd'] });
    expect(quietOnes(l, ['a', 'b', 'c', 'd'])).toEqual(['b', 'd']);
  });

  it('a challenger takes the least active place only after holdMs ahead by margin', () => {
    const l = new LoudestFew({ max: 2, margin: 0.1, holdMs: 500 });
    l.update(rank({ a: 0.5, b: 0.4, c: 0 }), 0);
    // c louder than b, but not by the margin: nothing.
    expect(l.update(rank({ a: 0.5, b: 0.4, c: 0.45 }), 100)).toBeUndefined();
    // Ahead by the margin: the hold starts.
    expect(l.update(rank({ a: 0.5, b: 0.2, c: 0.45 }), 200)).toBeUndefined();
    expect(l.update(rank({ a: 0.5, b: 0.2, c: 0.45 }), 600)).toBeUndefined();
    expect(l.update(rank({ a: 0.5, b: 0.2, c: 0.45 }), 700)).toEqual({ on: ['c'], off: ['b'] });
    expect(quietOnes(l, ['a', 'b', 'c'])).toEqual(['b']);
  });

  it('a challenger that falls back before the hold ends starts over', () => {
    const l = new LoudestFew({ max: 1, margin: 0.1, holdMs: 500 });
    l.update(rank({ a: 0.5, b: 0 }), 0);
    l.update(rank({ a: 0.3, b: 0.6 }), 100);
    l.update(rank({ a: 0.5, b: 0.5 }), 400); // a blip: the challenge ends
    expect(l.update(rank({ a: 0.3, b: 0.6 }), 700)).toBeUndefined(); // a new hold from 700
    expect(l.quiet('b')).toBe(true);
    expect(l.update(rank({ a: 0.3, b: 0.6 }), 1200)).toEqual({ on: ['b'], off: ['a'] });
  });

  it('a selected publisher that leaves frees its place for the most active waiting, at once', () => {
    const l = new LoudestFew({ max: 2 });
    l.update(rank({ a: 0.5, b: 0.4, c: 0.1, d: 0.2 }), 0);
    expect(l.update(rank({ b: 0.4, c: 0.1, d: 0.2 }), 10)).toEqual({ on: ['d'], off: [] });
    // Down to max: everyone again.
    expect(l.update(rank({ b: 0.4, c: 0.1 }), 20)).toEqual({ on: ['c'], off: [] });
  });

  it('max is at least 1', () => {
    expect(new LoudestFew({ max: 0 }).max).toBe(1);
  });
});
