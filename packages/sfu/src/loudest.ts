/**
 * Which publishers' audio a large room forwards: the `max` most active ("loudest few", as
 * Jitsi's last-N and LiveKit's top speakers), by the activity ActiveSpeakerDetector measures
 * from RFC 6464 levels. While a room has no more such publishers than `max`, everyone is
 * forwarded. Above that, a selected publisher keeps its place until an unselected one has
 * been more active than the least active selected by `margin` for `holdMs` — so places do
 * not flap with every syllable — and a place freed (its publisher left) is taken at once by
 * the most active one waiting. Sans-IO: time comes in as arguments.
 */

/**
 * Audio publishers forwarded at most, by default, in a room (Room's `maxAudioForwards`): 5, so
 * that a call of six — the size the SDK's mesh gives out at — hears everyone, and only larger
 * rooms are cut to their loudest few.
 */
export const DEFAULT_MAX_AUDIO_FORWARDS = 5;
/** Activity (0–1, speaker.ts) a challenger must exceed the least active selected publisher's by. */
export const DEFAULT_LOUDEST_MARGIN = 0.1;
/** How long a challenger must stay ahead before it takes the place, ms. */
export const DEFAULT_LOUDEST_HOLD_MS = 500;

export interface LoudestOptions {
  /** Default DEFAULT_MAX_AUDIO_FORWARDS; must be at least 1. */
  max?: number;
  /** Default DEFAULT_LOUDEST_MARGIN. */
  margin?: number;
  /** Default DEFAULT_LOUDEST_HOLD_MS. */
  holdMs?: number;
}

/** What an update changed: publishers whose audio is forwarded again (`on`) or no longer (`off`). */
export interface LoudestChange {
  on: string[];
  off: string[];
}

export class LoudestFew {
  readonly max: number;
  readonly #margin: number;
  readonly #holdMs: number;
  /** Forwarded while the room is over `max`. */
  readonly #selected = new Set<string>();
  /** Not forwarded. */
  readonly #quiet = new Set<string>();
  #challenger: { peer: string; since: number } | undefined;

  constructor(options: LoudestOptions = {}) {
    this.max = Math.max(1, Math.floor(options.max ?? DEFAULT_MAX_AUDIO_FORWARDS));
    this.#margin = options.margin ?? DEFAULT_LOUDEST_MARGIN;
    this.#holdMs = options.holdMs ?? DEFAULT_LOUDEST_HOLD_MS;
  }

  /** True when `peer`'s audio is not forwarded now. */
  quiet(peer: string): boolean {
    return this.#quiet.has(peer);
  }

  /**
   * Takes the room's publishers by activity, most active first (ActiveSpeakerDetector.ranking:
   * those that send audio levels), at `now`; returns what changed, or undefined.
   */
  update(ranking: readonly { peer: string; activity: number }[], now: number): LoudestChange | undefined {
    const present = new Set(ranking.map((r) => r.peer));
    for (const peer of this.#selected) if (!present.has(peer)) this.#selected.delete(peer);
    for (const peer of this.#quiet) if (!present.has(peer)) this.#quiet.delete(peer);
    if (this.#challenger && !present.has(this.#challenger.peer)) this.#challenger = undefined;
    const wasQuiet = new Set(this.#quiet);

    if (ranking.length <= this.max) {
      this.#selected.clear();
      this.#quiet.clear();
      this.#challenger = undefined;
    } else {
      // Free places go to the most active waiting, at once (the first update fills them all).
      for (const { peer } of ranking) {
        if (this.#selected.size >= this.max) break;
        this.#selected.add(peer);
      }
      this.#challenge(ranking, now);
      this.#quiet.clear();
      for (const { peer } of ranking) if (!this.#selected.has(peer)) this.#quiet.add(peer);
    }

    const on = [...wasQuiet].filter((p) => !this.#quiet.has(p));
    const off = [...this.#quiet].filter((p) => !wasQuiet.has(p));
    return on.length > 0 || off.length > 0 ? { on, off } : undefined;
  }

  /** The most active unselected publisher against the least active selected one. */
  #challenge(ranking: readonly { peer: string; activity: number }[], now: number): void {
    const best = ranking.find((r) => !this.#selected.has(r.peer));
    let weakest: { peer: string; activity: number } | undefined;
    for (const r of ranking) if (this.#selected.has(r.peer)) weakest = r; // ranking is sorted: the last one seen
    if (!best || !weakest || best.activity < weakest.activity + this.#margin) {
      this.#challenger = undefined;
      return;
    }
    if (this.#challenger?.peer !== best.peer) {
      this.#challenger = { peer: best.peer, since: now };
      if (this.#holdMs > 0) return;
    }
    if (now - this.#challenger.since < this.#holdMs) return;
    this.#selected.delete(weakest.peer);
    this.#selected.add(best.peer);
    this.#challenger = undefined;
  }
}
