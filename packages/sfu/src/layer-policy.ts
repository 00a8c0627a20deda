/**
 * Which simulcast layer a subscriber gets, from its bandwidth estimate (REMB, remb.ts) and the
 * bitrate of each layer as the SFU receives it. The layer the subscriber asked for is the
 * ceiling. Sans-IO: the room feeds requests, estimates, rates and the time; `chosen` is what
 * the LayerForwarder should target.
 *
 * Down fast: an estimate that is not rising and is below DOWN_MARGIN × the chosen layer's rate
 * moves to the highest layer that fits it (or the lowest layer). "Not rising" because a
 * receiver's REMB lags behind a higher rate it just started to get (Chromium's grows by 8 %/s,
 * draft-ietf-rmcat-gcc-02 §5.5), while congestion makes it fall.
 *
 * Up slowly: after `hold` (UP_HOLD_MS) of headroom — the estimate fits the next layer up, or
 * is at least HEADROOM × the chosen layer's rate (a Chromium receiver's estimate never exceeds
 * 1.5 × what it receives, so a low layer could otherwise never prove room for a higher one) —
 * to the highest layer that fits, or the next one up. An up-switch undone within `hold` doubles
 * it, to MAX_UP_HOLD_MS, so a link that cannot take the next layer is not probed every 10 s.
 * For PROBE_MS after such a switch the new layer is kept while the estimate holds at least
 * what it was at the switch: the receiver's estimate of the higher rate it now gets lags
 * (8 %/s) and repeats itself, and only a falling one means the link cannot take it. Without
 * this a WHEP viewer whose limit was lifted stepped up and straight back down (issue 16).
 *
 * A request for a higher layer is taken at once (the subscriber wants it; the estimate may
 * then bring it down, once a REMB after the request says so). A layer the publisher does not
 * send (yet: Chromium adds its higher layers as its own estimate grows; or any more) gives way
 * to the highest one below it that is sent, and the subscriber climbs back as soon as a higher
 * layer up to its request is sent again.
 */

/** Time of continuous headroom before a switch up. */
export const UP_HOLD_MS = 10_000;
/** The longest hold, after up-switches that had to be undone. */
export const MAX_UP_HOLD_MS = 80_000;
/** Below this fraction of the chosen layer's rate, a non-rising estimate switches down. */
export const DOWN_MARGIN = 0.8;
/** An estimate this many times the chosen layer's rate counts as headroom for the next layer. */
export const HEADROOM = 1.4;
/** After an up-switch by headroom, how long an estimate that does not fall below the switch's keeps the new layer. */
export const PROBE_MS = 10_000;

/** A layer (RID); `undefined` without simulcast; `null` paused. */
export type Layer = string | undefined | null;

export class LayerPolicy {
  /** The layer to forward. */
  chosen: Layer;
  /** Switches down and up because of the estimate (not requests). */
  downs = 0;
  ups = 0;
  private ceiling: Layer;
  private estimate: number | undefined;
  private rising = false;
  private estimateAt = -Infinity;
  private headroomSince: number | undefined;
  /** Below the ceiling because a layer was not sent, not because of the estimate. */
  private waiting = false;
  private hold = UP_HOLD_MS;
  /** When the chosen layer last went up (by a request or by headroom). */
  private upAt = -Infinity;
  /** The estimate an up-switch by headroom was made on (undefined after other switches). */
  private upEstimate: number | undefined;

  constructor(
    /** The publisher's layers, lowest first (Chromium: q, h, f). */
    private readonly rids: readonly string[],
    requested: Layer,
  ) {
    this.ceiling = this.chosen = requested;
  }

  /** The subscriber's request: the new ceiling. */
  request(rid: Layer, now: number): void {
    if (this.rank(rid) > this.rank(this.chosen)) this.upAt = now;
    this.upEstimate = undefined;
    this.ceiling = this.chosen = rid;
    this.headroomSince = undefined;
    this.waiting = false;
  }

  /** A bandwidth estimate (bit/s) for this subscriber's video. */
  estimated(bitrate: number, now: number): void {
    this.rising = this.estimate !== undefined && bitrate > this.estimate;
    this.estimate = bitrate;
    this.estimateAt = now;
  }

  /** Re-decides with each layer's current rate (bit/s; 0 for a layer not being received); returns `chosen`. */
  update(rate: (rid: string) => number, now: number): Layer {
    const { chosen, estimate } = this;
    if (chosen === null || chosen === undefined || this.rids.length < 2) return chosen;
    const at = this.rank(chosen);
    const top = this.rank(this.ceiling);
    const sent = (i: number): boolean => i === 0 || rate(this.rids[i]!) > 0;
    /** The highest layer from `from` down that is sent and within `budget`, else the lowest. */
    const highest = (from: number, budget: number): number => {
      for (let i = from; i > 0; i--) if (sent(i) && rate(this.rids[i]!) <= budget) return i;
      return 0;
    };
    const move = (to: number): Layer => {
      if (to > at) this.upAt = now;
      this.upEstimate = undefined;
      this.headroomSince = undefined;
      return (this.chosen = this.rids[to]);
    };
    if (!sent(at)) {
      // A layer the publisher does not send (yet, or any more): the highest below it that it sends.
      this.waiting = true;
      return move(highest(at, Infinity));
    }
    const probing = this.upEstimate !== undefined && now - this.upAt < PROBE_MS && estimate !== undefined && estimate >= this.upEstimate;
    if (estimate !== undefined && !this.rising && !probing && this.estimateAt > this.upAt && estimate < DOWN_MARGIN * rate(chosen) && at > 0) {
      this.hold = now - this.upAt < this.hold ? Math.min(2 * this.hold, MAX_UP_HOLD_MS) : UP_HOLD_MS;
      this.waiting = false;
      this.downs++;
      return move(highest(at - 1, estimate));
    }
    if (estimate === undefined || this.waiting) {
      // Nothing known of the subscriber's bandwidth, or it is below its request only because
      // that layer was not sent: the highest layer sent, up to the ceiling.
      const best = highest(top, Infinity);
      if (best === top) this.waiting = false;
      return best === at ? chosen : move(best);
    }
    let next = at + 1;
    while (next <= top && !sent(next)) next++;
    const headroom = next <= top && estimate >= Math.min(rate(this.rids[next]!), HEADROOM * rate(chosen));
    if (!headroom) {
      this.headroomSince = undefined;
      return chosen;
    }
    this.headroomSince ??= now;
    if (now - this.headroomSince < this.hold) return chosen;
    this.ups++;
    const up = move(Math.max(next, highest(top, estimate)));
    this.upEstimate = estimate;
    return up;
  }

  /** A layer's place, lowest first; -1 for paused. */
  private rank(rid: Layer): number {
    if (rid === null) return -1;
    if (rid === undefined) return 0;
    return this.rids.indexOf(rid);
  }
}
