/**
 * What a publisher sends (its tracks and their layers as they arrive) and the sinks each
 * track feeds: one per subscriber section or viewer track, each with its own LayerForwarder
 * (its layer), LayerPolicy (that layer under the receiver's bandwidth estimate) and outgoing
 * track (its SSRC). A publication also measures what arrives of it: each layer's rate
 * (RateMeter) and the estimate the publisher is told by REMB (ReceiveEstimator).
 */
import { SfuCounters } from './counters.js';
import type { IncomingStream, OutgoingTrack, PublisherTransport } from './engine.js';
import { readAudioLevel, type AudioLevel } from './audio-level.js';
import { LayerPolicy } from './layer-policy.js';
import { RateMeter } from './rate-meter.js';
import { ReceiveEstimator } from './receive-estimator.js';
import { isRtp, RtpHeaderBackup, RtpRewriter } from './rewriter.js';
import type { OfferedTrack } from './sdp.js';
import { LayerForwarder } from './simulcast.js';

export interface Sink {
  forwarder: LayerForwarder;
  out: OutgoingTrack;
  /** The layer from the receiver's bandwidth estimate, under the layer it asked for. */
  policy: LayerPolicy;
}

/** One published audio or video track and its layers as they arrive. */
export class PublishedTrack {
  readonly streams = new Map<string, IncomingStream>();
  readonly sinks = new Set<Sink>();
  /** Each layer's received bitrate (by RID; '' without simulcast). */
  readonly rates = new Map<string, RateMeter>();
  forwarded = 0;
  received = 0;

  constructor(
    /** As the publisher's latest offer describes it (a renegotiation may change its layers). */
    public offered: OfferedTrack,
    /** Called once, with the track's first stream (its codec is known from then on). */
    private readonly onReady: () => void,
    /** Called with each packet, for the publisher's bandwidth estimate. */
    private readonly onPacket: (packet: Buffer) => void,
    /** Called with each packet's RFC 6464 level, when the track carries them. */
    private readonly onLevel?: (level: AudioLevel) => void,
    readonly counters: SfuCounters = new SfuCounters(),
  ) {}

  get mimeType(): string | undefined {
    return this.streams.values().next().value?.codec.mimeType;
  }

  get ready(): boolean {
    return this.streams.size > 0;
  }

  add(stream: IncomingStream): void {
    const first = this.streams.size === 0;
    this.streams.set(stream.rid ?? '', stream);
    const meter = new RateMeter(performance.now());
    this.rates.set(stream.rid ?? '', meter);
    const levelId = this.onLevel ? this.offered.audioLevelId : undefined;
    const counters = this.counters;
    const header = new RtpHeaderBackup();
    stream.onRtp((packet) => {
      this.received++;
      counters.receivedPackets++;
      counters.receivedBytes += packet.length;
      meter.add(packet.length);
      this.onPacket(packet);
      if (levelId !== undefined) {
        const level = readAudioLevel(packet, levelId);
        if (level) this.onLevel!(level);
      }
      if (!isRtp(packet)) return;
      // One buffer for every subscriber: rewritten in place, sent (engines copy it during the
      // call), its header put back for the next one.
      header.save(packet);
      for (const sink of this.sinks) {
        if (!sink.forwarder.forward(stream.rid, packet)) continue;
        try {
          sink.out.send(packet);
        } finally {
          header.restore(packet);
        }
        this.forwarded++;
        counters.forwardedPackets++;
        counters.forwardedBytes += packet.length;
      }
    });
    if (first) this.onReady();
  }

  requestKeyframe(rid: string | undefined): void {
    const stream = this.streams.get(rid ?? '');
    if (!stream) return;
    this.counters.keyframeRequests++;
    stream.requestKeyframe();
  }

  /** The track's received bitrate, all layers (bit/s, as of the last sample). */
  get bitrate(): number {
    let n = 0;
    for (const meter of this.rates.values()) n += meter.rate;
    return n;
  }

  /** A layer's received bitrate as of the last sample (bit/s). */
  rate(rid: string | undefined): number {
    return this.rates.get(rid ?? '')?.rate ?? 0;
  }
}

/** Something fed by a publication: a subscriber session, or a viewer. */
export interface Feed {
  /** The publication's tracks changed (some added, removed, or became ready), or it ended. */
  publicationChanged(publication: Publication): void;
}

export class Publication {
  /** Live tracks by the publisher's MID. */
  readonly tracks = new Map<string, PublishedTrack>();
  /** Tracks a renegotiation removed, kept by MID: the engine's stream of a MID offered again feeds the same object. */
  private readonly retired = new Map<string, PublishedTrack>();
  readonly feeds = new Set<Feed>();
  ended = false;
  /** The bitrate the publisher may send (REMB), from what arrives of it. */
  readonly estimator: ReceiveEstimator;

  constructor(
    readonly peer: string,
    readonly transport: PublisherTransport,
    private readonly onLevel: (level: AudioLevel) => void,
    /** The most the publisher is told it may send, bit/s. */
    maxBitrate: number,
    private readonly counters: SfuCounters = new SfuCounters(),
  ) {
    this.estimator = new ReceiveEstimator({ max: maxBitrate });
    transport.onStream((stream) => (this.tracks.get(stream.mid) ?? this.retired.get(stream.mid))?.add(stream));
  }

  private packet(packet: Buffer): void {
    if (packet.length >= 12) this.estimator.packet(packet.readUInt32BE(8), packet.readUInt16BE(2), packet.length, performance.now());
  }

  /**
   * Every feedback interval (Room): samples the layers' rates, sends the publisher its REMB,
   * and re-decides the layer of each sink of its simulcast tracks under that receiver's
   * estimate; returns the layer switches the estimates made.
   */
  feedback(now: number): number {
    for (const track of this.tracks.values()) for (const meter of track.rates.values()) meter.sample(now);
    const step = this.estimator.update(now);
    if (step) this.transport.sendBitrateEstimate({ bitrate: step.estimate, ssrcs: this.estimator.mediaSsrcs });
    let switches = 0;
    for (const track of this.tracks.values()) {
      if (track.offered.rids.length < 2) continue;
      for (const { policy, forwarder } of track.sinks) {
        const [before, byBandwidth] = [policy.chosen, policy.ups + policy.downs];
        const chosen = policy.update((rid) => track.rate(rid), now);
        if (chosen !== before) forwarder.setTarget(chosen);
        switches += policy.ups + policy.downs - byBandwidth;
      }
    }
    return switches;
  }

  /** Every offered track has its first stream (so its codec is known). */
  ready(): boolean {
    return [...this.tracks.values()].every((t) => t.ready);
  }

  /** Takes the tracks of the publisher's (latest) offer; returns the tracks it no longer sends. */
  update(offered: readonly OfferedTrack[]): PublishedTrack[] {
    const mids = new Set(offered.map((t) => t.mid));
    const removed = [...this.tracks.values()].filter((t) => !mids.has(t.offered.mid));
    for (const track of removed) {
      this.tracks.delete(track.offered.mid);
      this.retired.set(track.offered.mid, track);
    }
    for (const o of offered) {
      let track = this.tracks.get(o.mid) ?? this.retired.get(o.mid);
      if (!track) {
        track = new PublishedTrack(
          o,
          () => this.changed(),
          (packet) => this.packet(packet),
          o.kind === 'audio' ? this.onLevel : undefined,
          this.counters,
        );
      }
      track.offered = o;
      this.retired.delete(o.mid);
      this.tracks.set(o.mid, track);
    }
    return removed;
  }

  changed(): void {
    for (const feed of [...this.feeds]) feed.publicationChanged(this);
  }
}

/**
 * The sink of one published track toward one outgoing track, starting on layer `initial` (RID;
 * undefined without simulcast; null paused) as the ceiling of its LayerPolicy. `share` turns
 * the receiver's REMB (bit/s, for its whole transport) into this track's part of it.
 */
export function sinkFor(track: PublishedTrack, out: OutgoingTrack, initial: string | undefined | null, share: (bitrate: number) => number = (b) => b): Sink {
  const rewriter = new RtpRewriter({ ssrc: out.ssrc, payloadType: out.codec.payloadType, clockRate: out.codec.clockRate });
  const forwarder = new LayerForwarder(track.mimeType!, rewriter, (rid) => track.requestKeyframe(rid), initial);
  const counters = track.counters;
  out.onKeyframeRequest(() => {
    counters.keyframeRequestsReceived++;
    forwarder.keyframeLost();
  });
  out.onNack((requested, resent) => {
    counters.nacks++;
    counters.nackedPackets += requested;
    counters.retransmittedPackets += resent;
  });
  const policy = new LayerPolicy(track.offered.rids, initial);
  out.onBitrateEstimate((bitrate) => policy.estimated(share(bitrate), performance.now()));
  return { forwarder, out, policy };
}

/** Sets `sink`'s requested layer (its policy's ceiling) and forwards what the policy chooses under it. */
export function requestLayer(sink: Sink, rid: string | null): void {
  sink.policy.request(rid, performance.now());
  sink.forwarder.setTarget(sink.policy.chosen);
}

/** Starts forwarding into `sink`: the first packet should be the keyframe asked for now. */
export function attach(track: PublishedTrack, sink: Sink): void {
  track.sinks.add(sink);
  sink.forwarder.setTarget(sink.forwarder.target);
}
