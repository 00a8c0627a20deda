/**
 * One subscriber's view of one published video track: which simulcast layer (RID) it gets.
 * A new layer is taken only at the start of one of its keyframes (asked for with a PLI), and
 * the old layer keeps flowing until then, so a switch never shows a broken frame or a freeze
 * longer than the keyframe's round trip. Audio and single-layer video use the same class with
 * the layer `undefined`.
 */
import { isKeyframeStart } from './keyframe.js';
import type { RtpRewriter } from './rewriter.js';

/** Chromium's names for sendEncodings [{rid:'q',scaleResolutionDownBy:4},{rid:'h',…:2},{rid:'f'}], lowest first. */
export const LAYERS = ['q', 'h', 'f'] as const;

/** How often a still-missing keyframe is asked for again (PLI can be lost; encoders rate-limit them). */
export const KEYFRAME_RETRY_MS = 1000;

export class LayerForwarder {
  /** The layer being forwarded now; `null` before the first keyframe. */
  current: string | undefined | null = null;
  /** The layer wanted; `null` pauses the subscription (nothing forwarded). */
  target: string | undefined | null;
  layerSwitches = 0;
  private askedAt = -Infinity;

  constructor(
    private readonly mimeType: string,
    private readonly rewriter: RtpRewriter,
    private readonly requestKeyframe: (rid: string | undefined) => void,
    initial: string | undefined | null,
    private readonly now: () => number = () => performance.now(),
    /** Audio needs no keyframe to start or switch. */
    private readonly needsKeyframe = mimeType.toLowerCase().startsWith('video/'),
  ) {
    this.target = initial;
    if (initial !== null) this.ask();
  }

  /** Sets the wanted layer; the switch happens on that layer's next keyframe, which is requested now. */
  setTarget(rid: string | undefined | null): void {
    this.target = rid;
    if (rid === null) {
      // Resumed later, the stream continues where it stopped (RtpRewriter.restart).
      if (this.current !== null) this.rewriter.restart();
      this.current = null;
      return;
    }
    if (rid !== this.current) {
      this.askedAt = -Infinity;
      this.ask();
    }
  }

  /** The subscriber lost the picture (its PLI/FIR): ask the publisher for a keyframe of what it gets. */
  keyframeLost(): void {
    if (this.current !== null) this.requestKeyframe(this.current);
  }

  /** `packet` rewritten in place for this subscriber (RtpRewriter.rewrite), or undefined to drop it. */
  forward(rid: string | undefined, packet: Buffer): Buffer | undefined {
    if (this.target === null) return undefined;
    if (rid === this.current && rid === this.target) return this.rewriter.rewrite(packet);
    if (rid === this.target) {
      if (!this.needsKeyframe || isKeyframeStart(this.mimeType, packet)) {
        if (this.current !== null) this.layerSwitches++;
        this.current = rid;
        return this.rewriter.rewrite(packet);
      }
      this.ask();
      return undefined;
    }
    // Until the target's keyframe comes, the layer being shown keeps going.
    if (rid === this.current) return this.rewriter.rewrite(packet);
    return undefined;
  }

  private ask(): void {
    if (!this.needsKeyframe) return;
    const at = this.now();
    if (at - this.askedAt < KEYFRAME_RETRY_MS) return;
    this.askedAt = at;
    this.requestKeyframe(this.target ?? undefined);
  }
}
