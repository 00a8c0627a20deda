/**
 * What a publisher sends (its tracks and their layers as they arrive) and the sinks each
 * track feeds: one per subscriber section or viewer track, each with its own LayerForwarder
 * (its layer) and outgoing track (its SSRC).
 */
import type { IncomingStream, OutgoingTrack, PublisherTransport } from './engine.js';
import { readAudioLevel, type AudioLevel } from './audio-level.js';
import { RtpRewriter } from './rewriter.js';
import type { OfferedTrack } from './sdp.js';
import { LayerForwarder } from './simulcast.js';

export interface Sink {
  forwarder: LayerForwarder;
  out: OutgoingTrack;
}

/** One published audio or video track and its layers as they arrive. */
export class PublishedTrack {
  readonly streams = new Map<string, IncomingStream>();
  readonly sinks = new Set<Sink>();
  forwarded = 0;
  received = 0;

  constructor(
    /** As the publisher's latest offer describes it (a renegotiation may change its layers). */
    public offered: OfferedTrack,
    /** Called once, with the track's first stream (its codec is known from then on). */
    private readonly onReady: () => void,
    /** Called with each packet's RFC 6464 level, when the track carries them. */
    private readonly onLevel?: (level: AudioLevel) => void,
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
    const levelId = this.onLevel ? this.offered.audioLevelId : undefined;
    stream.onRtp((packet) => {
      this.received++;
      if (levelId !== undefined) {
        const level = readAudioLevel(packet, levelId);
        if (level) this.onLevel!(level);
      }
      for (const sink of this.sinks) {
        const out = sink.forwarder.forward(stream.rid, packet);
        if (out) {
          sink.out.send(out);
          this.forwarded++;
        }
      }
    });
    if (first) this.onReady();
  }

  requestKeyframe(rid: string | undefined): void {
    this.streams.get(rid ?? '')?.requestKeyframe();
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

  constructor(
    readonly peer: string,
    readonly transport: PublisherTransport,
    private readonly onLevel: (level: AudioLevel) => void,
  ) {
    transport.onStream((stream) => (this.tracks.get(stream.mid) ?? this.retired.get(stream.mid))?.add(stream));
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
        track = new PublishedTrack(o, () => this.changed(), o.kind === 'audio' ? this.onLevel : undefined);
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

/** The sink of one published track toward one outgoing track, starting on layer `initial` (RID; undefined without simulcast; null paused). */
export function sinkFor(track: PublishedTrack, out: OutgoingTrack, initial: string | undefined | null): Sink {
  const rewriter = new RtpRewriter({ ssrc: out.ssrc, payloadType: out.codec.payloadType, clockRate: out.codec.clockRate });
  const forwarder = new LayerForwarder(track.mimeType!, rewriter, (rid) => track.requestKeyframe(rid), initial);
  out.onKeyframeRequest(() => forwarder.keyframeLost());
  return { forwarder, out };
}

/** Starts forwarding into `sink`: the first packet should be the keyframe asked for now. */
export function attach(track: PublishedTrack, sink: Sink): void {
  track.sinks.add(sink);
  sink.forwarder.setTarget(sink.forwarder.target);
}
