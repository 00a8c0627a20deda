/**
 * A member's subscriber session: ONE subscriber transport for every track it receives from
 * every publisher it subscribes to, renegotiated as subscriptions and publications change
 * (docs/protocol/sfu.md §15.4). Offers are serialized: while one waits for its answer, changes
 * accumulate, and one new offer follows once that answer is applied.
 */
import { SfuError, type IceCandidate, type MediaKind, type SubscriberTrack, type SubscriberTransport } from './engine.js';
import { DEFAULT_MAX_AUDIO_FORWARDS, LoudestFew } from './loudest.js';
import { attach, requestLayer, sinkFor, type Feed, type Publication, type PublishedTrack, type Sink } from './publication.js';

/** One live section of a session offer (`pinhole:sfu-offer`'s `tracks`). */
export interface SessionTrack {
  /** The section's MID in this offer. */
  mid: string;
  publisher: string;
  kind: MediaKind;
  /** The publisher's own MID of the track (as in `pinhole:sfu-tracks`). */
  trackMid: string;
}

export interface SessionOffer {
  sdp: string;
  tracks: SessionTrack[];
}

/** Where a session's signals to its member go (the service sends them as `pinhole:sfu-*` signals). */
export interface SessionSignals {
  offer(offer: SessionOffer): void;
  /** The SFU's candidates, after the first answer is applied (and after a later one only if it brought new ones). */
  candidates(candidates: IceCandidate[]): void;
  /** The transport failed or closed by itself (not when the member left): the member subscribes again. */
  closed(): void;
}

/** How long an offer waits for its answer before the session is given up (`signals.closed`). */
export const ANSWER_TIMEOUT_MS = 20_000;

interface Section {
  publisher: string;
  track: PublishedTrack;
  out: SubscriberTrack;
  sink: Sink;
  /** Forwarding (the answer that negotiated it is applied). */
  attached: boolean;
}

export class SubscriberSession implements Feed {
  /**
   * Subscribed publications by publisher, with the layer (RID, or null: paused) their simulcast
   * video is to get: `layer` for every video track, `trackLayers` for one by its MID. Sections
   * made later (a track that becomes ready, an offer that waited) start on it.
   */
  private readonly wanted = new Map<string, { publication: Publication; layer: string | undefined | null; trackLayers: Map<string, string | null> }>();
  private readonly sections = new Map<PublishedTrack, Section>();
  private readonly loudest: LoudestFew;
  /** The offer waiting for its answer: its sections' MIDs in order, and the timer that gives up on it. */
  private outstanding: { mids: string[]; timer: NodeJS.Timeout } | undefined;
  /** Creating an offer or applying an answer. */
  private busy = false;
  /** Something changed since the last offer was made. */
  private dirty = false;
  private closed = false;

  constructor(
    readonly peer: string,
    readonly transport: SubscriberTransport,
    private readonly signals: SessionSignals,
    private readonly answerTimeoutMs = ANSWER_TIMEOUT_MS,
    /** Whose audio the member gets: the most active this many of the others (loudest.ts). */
    maxAudioForwards = DEFAULT_MAX_AUDIO_FORWARDS,
  ) {
    this.loudest = new LoudestFew({ max: maxAudioForwards });
  }

  /** True while the member gets none of `publisher`'s audio: not among the loudest few. */
  audioPaused(publisher: string): boolean {
    return this.loudest.quiet(publisher);
  }

  /**
   * Takes the room's publishers by audio activity, most active first (ActiveSpeakerDetector.ranking),
   * and pauses or resumes their audio forwards to this member: the loudest few of the others.
   */
  rankAudio(ranking: readonly { peer: string; activity: number }[], now: number): void {
    const change = this.loudest.update(
      ranking.filter((r) => r.peer !== this.peer),
      now,
    );
    if (!change) return;
    for (const publisher of change.off) this.setAudible(publisher, false);
    for (const publisher of change.on) this.setAudible(publisher, true);
  }

  /** Publishers subscribed to. */
  get publishers(): string[] {
    return [...this.wanted.keys()];
  }

  has(publisher: string): boolean {
    return this.wanted.has(publisher);
  }

  /** Tracks of the publications subscribed to: the streams this session is (or is about to be) sent. */
  forwardCount(): number {
    let n = 0;
    for (const { publication } of this.wanted.values()) n += publication.tracks.size;
    return n;
  }

  /** Subscribes to `publication` (a no-op when it is already, except for a new layer). */
  add(publication: Publication, layer: string | undefined): void {
    if (layer !== undefined) {
      for (const track of publication.tracks.values()) {
        if (track.offered.rids.length > 0 && !track.offered.rids.includes(layer)) {
          throw new SfuError('bad-request', `layer ${layer} is not one of ${track.offered.rids.join(', ')}`);
        }
      }
    }
    const existing = this.wanted.get(publication.peer);
    if (existing?.publication === publication) {
      if (layer !== undefined) this.setLayer(publication.peer, layer);
      return;
    }
    existing?.publication.feeds.delete(this);
    this.wanted.set(publication.peer, { publication, layer, trackLayers: new Map() });
    publication.feeds.add(this);
    this.request();
  }

  remove(publisher: string): void {
    const entry = this.wanted.get(publisher);
    if (!entry) throw new SfuError('not-found', `${this.peer} has no subscription to ${publisher}`);
    this.wanted.delete(publisher);
    entry.publication.feeds.delete(this);
    this.stopForwarding((s) => s.publisher === publisher);
    this.request();
  }

  publicationChanged(publication: Publication): void {
    if (this.wanted.get(publication.peer)?.publication !== publication) return;
    if (publication.ended) this.wanted.delete(publication.peer);
    // Forwards of tracks it no longer sends stop now; their sections go in the next offer.
    this.stopForwarding((s) => s.publisher === publication.peer && (publication.ended || s.track !== publication.tracks.get(s.track.offered.mid)));
    this.request();
  }

  /**
   * Switches the video of `publisher` (one track by its MID, or all) to `rid` on its next
   * keyframe; null pauses. `rid` is a ceiling: the member's bandwidth estimate may choose a
   * lower layer (layer-policy.ts).
   */
  setLayer(publisher: string, rid: string | null, trackMid?: string): void {
    const entry = this.wanted.get(publisher);
    if (!entry) throw new SfuError('not-found', `${this.peer} has no subscription to ${publisher}`);
    const tracks = [...entry.publication.tracks.values()].filter((t) => t.offered.kind === 'video' && (trackMid === undefined || t.offered.mid === trackMid));
    if (trackMid !== undefined && tracks.length === 0) throw new SfuError('not-found', `${publisher} sends no video track ${trackMid}`);
    for (const track of tracks) {
      if (rid !== null && track.offered.rids.length > 0 && !track.offered.rids.includes(rid)) {
        throw new SfuError('bad-request', `layer ${rid} is not one of ${track.offered.rids.join(', ')}`);
      }
    }
    if (trackMid === undefined) {
      entry.layer = rid;
      entry.trackLayers.clear();
    } else {
      entry.trackLayers.set(trackMid, rid);
    }
    for (const { track, sink } of this.sections.values()) {
      if (tracks.includes(track) && track.offered.rids.length > 0) requestLayer(sink, rid);
    }
  }

  /**
   * Pauses (`audible` false) or resumes the forwards of `publisher`'s audio tracks: the
   * loudest-few choice. A paused forward sends nothing (no rewrite, no encrypt); resumed, the
   * subscriber's stream continues by one sequence number (RtpRewriter.restart).
   */
  private setAudible(publisher: string, audible: boolean): void {
    for (const { publisher: p, track, sink } of this.sections.values()) {
      if (p === publisher && track.offered.kind === 'audio') sink.forwarder.setTarget(audible ? undefined : null);
    }
  }

  layers(publisher: string): { mid: string; current: string | undefined | null; target: string | undefined | null; switches: number }[] {
    return [...this.sections.values()]
      .filter((s) => s.publisher === publisher && s.track.offered.kind === 'video')
      .map(({ track, sink }) => ({ mid: track.offered.mid, current: sink.forwarder.current, target: sink.forwarder.target, switches: sink.forwarder.layerSwitches }));
  }

  /**
   * Applies the member's answer to the outstanding offer (SfuError `bad-request` when none is
   * outstanding or the answer's sections are not the offer's; the offer then stays outstanding),
   * starts forwarding what it negotiated, and makes the next offer if changes came meanwhile.
   */
  async acceptAnswer(sdp: string): Promise<void> {
    const outstanding = this.outstanding;
    if (!outstanding || this.busy) throw new SfuError('bad-request', `no offer to ${this.peer} is waiting for an answer`);
    const mids = sectionMids(sdp);
    if (mids.join(' ') !== outstanding.mids.join(' ')) {
      throw new SfuError('bad-request', `the answer's sections (${mids.join(', ') || 'none'}) are not those of the outstanding offer (${outstanding.mids.join(', ')})`);
    }
    clearTimeout(outstanding.timer);
    this.busy = true;
    try {
      await this.transport.acceptAnswer(sdp, (candidates) => this.signals.candidates(candidates));
    } catch (err) {
      // A transport that failed meanwhile was reported by signals.closed: nothing more to say.
      if (this.closed) return;
      // Applied, but never connected: the session is no use; the member is told to start over.
      if (err instanceof SfuError && err.code === 'timeout') return this.transportClosed();
      outstanding.timer = this.giveUpAfter();
      throw err;
    } finally {
      this.busy = false;
    }
    this.outstanding = undefined;
    for (const section of this.sections.values()) {
      if (!section.attached) {
        section.attached = true;
        attach(section.track, section.sink);
      }
    }
    if (this.dirty) void this.negotiate();
  }

  /** Stops forwarding and closes the transport; `signals.closed` is not called. */
  close(): void {
    this.closed = true;
    clearTimeout(this.outstanding?.timer);
    this.stopForwarding(() => true);
    for (const { publication } of this.wanted.values()) publication.feeds.delete(this);
    this.wanted.clear();
    this.transport.close();
  }

  /** The transport closed by itself (failed, or its peer went away). */
  transportClosed(): void {
    if (this.closed) return;
    this.close();
    this.signals.closed();
  }

  private giveUpAfter(): NodeJS.Timeout {
    const timer = setTimeout(() => this.transportClosed(), this.answerTimeoutMs);
    timer.unref();
    return timer;
  }

  private stopForwarding(which: (s: Section) => boolean): void {
    for (const section of this.sections.values()) {
      if (which(section)) section.track.sinks.delete(section.sink);
    }
  }

  private request(): void {
    this.dirty = true;
    if (!this.busy && !this.outstanding && !this.closed) void this.negotiate();
  }

  /** Brings the transport's tracks in line with the subscriptions, then offers if that changed anything. */
  private async negotiate(): Promise<void> {
    this.dirty = false;
    if (!this.sync()) return;
    this.busy = true;
    let sdp: string | undefined;
    try {
      sdp = await this.transport.createOffer();
    } catch {
      sdp = undefined;
    } finally {
      this.busy = false;
    }
    if (sdp === undefined) return this.transportClosed();
    if (this.closed) return;
    // A member that never answers must not hold the transport and every later change forever.
    this.outstanding = { mids: sectionMids(sdp), timer: this.giveUpAfter() };
    const tracks = [...this.sections.values()].map((s) => ({ mid: s.out.mid, publisher: s.publisher, kind: s.track.offered.kind, trackMid: s.track.offered.mid }));
    tracks.sort((a, b) => Number(a.mid) - Number(b.mid) || a.mid.localeCompare(b.mid));
    this.signals.offer({ sdp, tracks });
  }

  /**
   * The session's video sections: a REMB from the member is the estimate of its whole
   * transport, so each video section's LayerPolicy gets an equal part of it.
   */
  private videoSections(): number {
    let n = 0;
    for (const s of this.sections.values()) if (s.track.offered.kind === 'video') n++;
    return Math.max(n, 1);
  }

  /** True when a section was added or removed. */
  private sync(): boolean {
    let changed = false;
    for (const [track, section] of this.sections) {
      const publication = this.wanted.get(section.publisher)?.publication;
      if (publication && publication.tracks.get(track.offered.mid) === track) continue;
      track.sinks.delete(section.sink);
      this.transport.removeTrack(section.out);
      this.sections.delete(track);
      changed = true;
    }
    for (const { publication, layer, trackLayers } of this.wanted.values()) {
      for (const track of publication.tracks.values()) {
        if (this.sections.has(track) || !track.ready) continue;
        const out = this.transport.addTrack(track.mimeType!);
        const rids = track.offered.rids;
        const wantedLayer = trackLayers.has(track.offered.mid) ? trackLayers.get(track.offered.mid) : layer;
        const initial =
          track.offered.kind === 'audio'
            ? this.loudest.quiet(publication.peer)
              ? null
              : undefined
            : rids.length === 0
              ? undefined
              : wantedLayer === null
                ? null
                : wantedLayer !== undefined && rids.includes(wantedLayer)
                  ? wantedLayer
                  : rids[0];
        const sink = sinkFor(track, out, initial, (bitrate) => bitrate / this.videoSections());
        this.sections.set(track, { publisher: publication.peer, track, out, sink, attached: false });
        changed = true;
      }
    }
    return changed;
  }
}

/** The MIDs of an SDP's media sections, in order (`bad-sdp` without a media section). */
function sectionMids(sdp: string): string[] {
  const mids: string[] = [];
  let sections = 0;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) sections++;
    else if (line.startsWith('a=mid:') && sections > 0) mids[sections - 1] = line.slice('a=mid:'.length).trim();
  }
  if (sections === 0) throw new SfuError('bad-sdp', 'an answer without media sections');
  return Array.from({ length: sections }, (_, i) => mids[i] ?? '');
}
