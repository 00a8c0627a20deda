/**
 * Dominant ("active") speaker of a room from the audio levels publishers send (RFC 6464).
 * Each publisher's activity is the mean loudness of its packets over a sliding window —
 * loudness = how far a packet's level is above `speechLevel`, 0 for quieter ones, so steady
 * background noise counts for nothing — and the speaker changes only when a challenger has
 * been clearly more active (by `margin`) for `holdMs`: a cough or a short "mm-hm" does not
 * take the floor, and silence keeps the last speaker (as Jitsi's dominant speaker does).
 * Sans-IO: time comes in as arguments.
 */
import type { AudioLevel } from './audio-level.js';

export interface SpeakerOptions {
  /** Packets at or below this level (-dBov) count as speech. Default 50. */
  speechLevel?: number;
  /** Length of the sliding window, ms. Default 1000. */
  windowMs?: number;
  /** Activity (0–1) a challenger must exceed the current speaker's by. Default 0.15. */
  margin?: number;
  /** How long the challenger must stay ahead before it takes over, ms. Default 500. */
  holdMs?: number;
  /** Least activity that makes anyone the speaker. Default 0.05. */
  minActivity?: number;
}

const BINS = 10;

class Activity {
  /** Per bin: summed loudness and packet count; `bin` is the index of the current bin's time slot. */
  readonly loudness = new Float64Array(BINS);
  readonly packets = new Uint32Array(BINS);
  bin = -1;

  constructor(private readonly binMs: number) {}

  /** Moves the window to `now`, zeroing the bins it slid past. */
  advance(now: number): void {
    const bin = Math.floor(now / this.binMs);
    if (this.bin === -1 || bin - this.bin >= BINS) {
      this.loudness.fill(0);
      this.packets.fill(0);
    } else {
      for (let b = this.bin + 1; b <= bin; b++) {
        this.loudness[b % BINS] = 0;
        this.packets[b % BINS] = 0;
      }
    }
    if (bin > this.bin) this.bin = bin;
  }

  add(loudness: number, now: number): void {
    this.advance(now);
    const i = this.bin % BINS;
    this.loudness[i]! += loudness;
    this.packets[i]!++;
  }

  /** Mean loudness over the window; 0 without packets. */
  value(now: number): number {
    this.advance(now);
    let sum = 0;
    let n = 0;
    for (let i = 0; i < BINS; i++) {
      sum += this.loudness[i]!;
      n += this.packets[i]!;
    }
    return n === 0 ? 0 : sum / n;
  }
}

export class ActiveSpeakerDetector {
  readonly #speechLevel: number;
  readonly #binMs: number;
  readonly #margin: number;
  readonly #holdMs: number;
  readonly #minActivity: number;
  readonly #peers = new Map<string, Activity>();
  #current: string | undefined;
  #challenger: { peer: string; since: number } | undefined;

  constructor(options: SpeakerOptions = {}) {
    this.#speechLevel = options.speechLevel ?? 50;
    this.#binMs = (options.windowMs ?? 1000) / BINS;
    this.#margin = options.margin ?? 0.15;
    this.#holdMs = options.holdMs ?? 500;
    this.#minActivity = options.minActivity ?? 0.05;
  }

  /** The dominant speaker, or undefined before anyone spoke (or after the speaker left). */
  get current(): string | undefined {
    return this.#current;
  }

  /** One packet's level from `peer`. */
  add(peer: string, { level }: AudioLevel, now: number): void {
    let activity = this.#peers.get(peer);
    if (!activity) this.#peers.set(peer, (activity = new Activity(this.#binMs)));
    activity.add(Math.max(0, this.#speechLevel - level) / this.#speechLevel, now);
  }

  /** Forgets `peer` (it stopped publishing); the floor is open again if it had it. */
  remove(peer: string): void {
    this.#peers.delete(peer);
    if (this.#current === peer) this.#current = undefined;
    if (this.#challenger?.peer === peer) this.#challenger = undefined;
  }

  /** Publishers by activity over the window, most active first. */
  ranking(now: number): { peer: string; activity: number }[] {
    return [...this.#peers].map(([peer, a]) => ({ peer, activity: a.value(now) })).sort((a, b) => b.activity - a.activity);
  }

  /** Re-evaluates at `now` (call every 100–300 ms); returns the new speaker when it changed. */
  evaluate(now: number): string | undefined {
    const [best] = this.ranking(now);
    if (!best || best.activity < this.#minActivity || best.peer === this.#current) {
      this.#challenger = undefined;
      return undefined;
    }
    const current = this.#current === undefined ? 0 : (this.#peers.get(this.#current)?.value(now) ?? 0);
    if (this.#current !== undefined && best.activity < current + this.#margin) {
      this.#challenger = undefined;
      return undefined;
    }
    if (this.#current !== undefined && this.#challenger?.peer !== best.peer) {
      this.#challenger = { peer: best.peer, since: now };
      return undefined;
    }
    if (this.#current !== undefined && now - this.#challenger!.since < this.#holdMs) return undefined;
    this.#current = best.peer;
    this.#challenger = undefined;
    return best.peer;
  }
}
