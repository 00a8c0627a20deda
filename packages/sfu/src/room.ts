/**
 * Rooms of the SFU: publishers send their tracks once; each member has one subscriber session
 * (one transport, renegotiated) that carries every track it subscribes to, each through a
 * LayerForwarder (its layer) and its own outgoing track (its SSRC). Signaling is a direct API
 * whose calls map onto the hub's signal frames (docs/protocol/sfu.md):
 *   publish(peer, offer) → answer                (a publisher's offer, the SFU's answer; again to renegotiate)
 *   subscribe(peer, publisher, signals, {layer}) (adds to peer's session; offers come through `signals`)
 *   acceptAnswer(peer, answer)                   (the answer to the session's outstanding offer)
 *   setLayer(peer, publisher, rid | null, trackMid?)
 *   unsubscribe(peer, publisher), unpublish(peer)
 *   view(viewer, publisher, offer) → answer      (a viewer's offer, e.g. WHEP; the SFU answers)
 *   leave(peer)
 */
import type { SfuCounters } from './counters.js';
import { SfuError, type Engine, type ViewerTransport } from './engine.js';
import type { AudioLevel } from './audio-level.js';
import { Capacity, type RoomLoad } from './limits.js';
import { attach, Publication, sinkFor, type Feed, type PublishedTrack, type Sink } from './publication.js';
import { describeOffer, type OfferedTrack } from './sdp.js';
import { DEFAULT_MAX_PUBLISHER_BITRATE, ESTIMATE_INTERVAL_MS } from './receive-estimator.js';
import { ANSWER_TIMEOUT_MS, SubscriberSession, type SessionSignals } from './session.js';
import { DEFAULT_MAX_AUDIO_FORWARDS } from './loudest.js';
import { ActiveSpeakerDetector, type SpeakerOptions } from './speaker.js';
import { waitUntil } from './wait.js';

/** A WHEP-style viewer: its own transport, one publisher's tracks as they were when it started. */
class Viewing implements Feed {
  readonly sinks: { track: PublishedTrack; sink: Sink }[] = [];
  /** Forwarded streams it holds (SfuLimits.forwardedStreams): the publisher's tracks until its answer, then those it got. */
  forwards = 0;

  constructor(
    readonly peer: string,
    readonly publication: Publication,
    readonly transport: ViewerTransport,
  ) {}

  attach(): void {
    for (const { track, sink } of this.sinks) attach(track, sink);
  }

  detach(): void {
    for (const { track, sink } of this.sinks) track.sinks.delete(sink);
    this.sinks.length = 0;
  }

  /** A viewer cannot renegotiate: tracks the publisher stops sending just stop. */
  publicationChanged(publication: Publication): void {
    for (const { track, sink } of this.sinks) if (publication.tracks.get(track.offered.mid) !== track) track.sinks.delete(sink);
  }
}

export interface SubscribeOptions {
  /** Simulcast layer to start with (RID); default the first the publisher sends (Chromium: "q", the lowest). */
  layer?: string;
}

export interface ViewOptions {
  /** Called once when the viewing ends by itself (its transport closed or failed, or the publisher left). */
  onEnd?: () => void;
}

export type { SessionOffer, SessionSignals, SessionTrack } from './session.js';

type Layers = { mid: string; current: string | undefined | null; target: string | undefined | null; switches: number }[];

/** How often layer rates are sampled, publishers' estimates updated (ESTIMATE_INTERVAL_MS) and subscribers' layers re-decided. */
const FEEDBACK_INTERVAL_MS = ESTIMATE_INTERVAL_MS;

export interface RoomOptions {
  /** How long a subscriber session's offer waits for its answer before the session is given up; default ANSWER_TIMEOUT_MS. */
  answerTimeoutMs?: number;
  /** The most a publisher is told it may send (REMB), bit/s; default DEFAULT_MAX_PUBLISHER_BITRATE. */
  maxPublisherBitrate?: number;
  /** Where the room counts what it moves (the Sfu's, shared by its rooms). */
  counters?: SfuCounters;
  /** The limits of the SFU the room is on (the Sfu's, over all its rooms); default: DEFAULT_LIMITS for this room alone. */
  capacity?: Capacity;
  /**
   * With more other audio publishers (sending RFC 6464 levels) than this, a member gets the
   * audio of only this many, the most active (loudest.ts); default DEFAULT_MAX_AUDIO_FORWARDS.
   * Infinity forwards everyone's. Viewers (WHEP) always get their publisher's audio.
   */
  maxAudioForwards?: number;
}

/** How often the active speaker is re-evaluated while audio levels arrive. */
const SPEAKER_INTERVAL_MS = 200;

/** What a publisher sends, as announced to the room (`pinhole:sfu-tracks`, docs/protocol/sfu.md). */
export interface Published {
  publisher: string;
  tracks: OfferedTrack[];
  /** What to call a publisher that is not a hub member (a WHIP stream's name). */
  name?: string;
}

export interface PublishOptions {
  /** A name for a publisher that is not a hub member (the gateway's WHIP streams); members have their own meta. */
  name?: string;
}

export class Room implements RoomLoad {
  private readonly publications = new Map<string, Publication>();
  /** Each member's subscriber session. */
  private readonly sessions = new Map<string, SubscriberSession>();
  private readonly speakers: ActiveSpeakerDetector;
  private readonly speakerListeners = new Set<(peer: string | undefined) => void>();
  private speakerTimer: NodeJS.Timeout | undefined;
  private readonly viewers = new Map<string, Viewing>();
  /** PublishOptions.name by publisher. */
  private readonly names = new Map<string, string>();
  private readonly changeListeners = new Set<(change: Published) => void>();
  private readonly viewerListeners = new Set<(count: number) => void>();
  /** Viewers whose answer was made: what onViewers counts. */
  private readonly answeredViewers = new Set<Viewing>();
  private feedbackTimer: NodeJS.Timeout | undefined;
  /** Layer switches made by subscribers' bandwidth estimates (layer-policy.ts), not by requests. */
  layerSwitchesByBandwidth = 0;
  private readonly capacity: Capacity;

  constructor(
    readonly name: string,
    private readonly engine: Engine,
    speakerOptions: SpeakerOptions = {},
    private readonly options: RoomOptions = {},
  ) {
    this.speakers = new ActiveSpeakerDetector(speakerOptions);
    this.capacity = options.capacity ?? new Capacity({}, () => [this]);
  }

  /** True while `peer` gets none of `publisher`'s audio: not among the loudest few of the others. */
  audioPaused(peer: string, publisher: string): boolean {
    return this.sessions.get(peer)?.audioPaused(publisher) ?? false;
  }

  /** The room's dominant speaker (RFC 6464 levels of its publishers' audio), if anyone spoke. */
  get activeSpeaker(): string | undefined {
    return this.speakers.current;
  }

  /** Calls `listener` with each new active speaker (undefined when the speaker stops publishing); returns its removal. */
  onActiveSpeaker(listener: (peer: string | undefined) => void): () => void {
    this.speakerListeners.add(listener);
    return () => this.speakerListeners.delete(listener);
  }

  private level(peer: string, level: AudioLevel): void {
    this.speakers.add(peer, level, Date.now());
    if (this.speakerTimer) return;
    this.speakerTimer = setInterval(() => {
      const now = Date.now();
      const changed = this.speakers.evaluate(now);
      if (changed !== undefined) this.announceSpeaker(changed);
      const ranking = this.speakers.ranking(now);
      for (const session of this.sessions.values()) session.rankAudio(ranking, now);
    }, SPEAKER_INTERVAL_MS);
    this.speakerTimer.unref();
  }

  private announceSpeaker(peer: string | undefined): void {
    for (const l of [...this.speakerListeners]) l(peer);
  }

  /**
   * Applies a publisher's offer (audio and/or video, simulcast or not) and returns the SFU's
   * answer. A later offer from the same publisher renegotiates its transport (tracks added or
   * removed): its subscribers' sessions follow with new offers.
   */
  async publish(peer: string, offerSdp: string, options: PublishOptions = {}): Promise<string> {
    const offered = describeOffer(offerSdp);
    if (options.name !== undefined) this.names.set(peer, options.name);
    const existing = this.publications.get(peer);
    if (existing) return this.republish(existing, offered, offerSdp);
    this.capacity.admit(this, { publisher: true });
    const transport = this.engine.createPublisherTransport();
    const publication = new Publication(peer, transport, (level) => this.level(peer, level), this.options.maxPublisherBitrate ?? DEFAULT_MAX_PUBLISHER_BITRATE, this.options.counters);
    publication.update(offered);
    this.startFeedback();
    transport.onClose(() => this.forgetPublication(publication));
    this.publications.set(peer, publication);
    let answer: string;
    try {
      answer = await transport.answer(offerSdp);
    } catch (err) {
      transport.close();
      throw err;
    }
    if (this.publications.get(peer) === publication) this.announce({ publisher: peer, tracks: offered });
    return answer;
  }

  private async republish(publication: Publication, offered: OfferedTrack[], offerSdp: string): Promise<string> {
    // More tracks are forwarded to each session that subscribes to it (viewers keep what they have).
    const sessions = [...this.sessions.values()].filter((s) => s.has(publication.peer)).length;
    this.capacity.admit(this, { forwards: Math.max(0, offered.length - publication.tracks.size) * sessions });
    // The tracks first: the engine announces a new track's stream while it applies the offer.
    const previous = [...publication.tracks.values()].map((t) => t.offered);
    publication.update(offered);
    let answer: string;
    try {
      answer = await publication.transport.answer(offerSdp);
    } catch (err) {
      publication.update(previous);
      throw err;
    }
    if (this.publications.get(publication.peer) !== publication) throw new SfuError('closed', `${publication.peer}'s publication ended`);
    publication.changed();
    this.announce({ publisher: publication.peer, tracks: offered });
    return answer;
  }

  /** Candidates `peer` trickled after its publish offer (e.g. a WHIP client's PATCH). */
  async addRemoteCandidates(peer: string, candidates: { candidate: string; sdpMid?: string }[]): Promise<void> {
    const publication = this.publications.get(peer);
    if (!publication) throw new SfuError('not-found', `${peer} does not publish in ${this.name}`);
    for (const c of candidates) await publication.transport.addRemoteCandidate(c);
  }

  /** RTP packets received from `peer` so far over all its tracks; undefined when it does not publish. */
  packetsFrom(peer: string): number | undefined {
    const publication = this.publications.get(peer);
    if (!publication) return undefined;
    let n = 0;
    for (const track of publication.tracks.values()) n += track.received;
    return n;
  }

  /**
   * Adds `publisher`'s tracks to `peer`'s subscriber session, creating it (with `signals`, where
   * its offers go) on first use; `signals` of later calls are ignored. Subscribing again is a
   * no-op, or a layer change with `layer`. The session's offer follows through `signals.offer`.
   */
  async subscribe(peer: string, publisher: string, signals: SessionSignals, options: SubscribeOptions = {}): Promise<void> {
    const publication = this.publications.get(publisher);
    if (!publication) throw new SfuError('not-found', `${publisher} does not publish in ${this.name}`);
    if (!this.sessions.get(peer)?.has(publisher)) {
      this.admitSubscription(peer, publication);
      // Wait for the codecs of its tracks (their first packets); after 10 s go on with those known.
      await waitUntil(() => publication.ready() || this.publications.get(publisher) !== publication, `${publisher}'s tracks`, 10_000).catch((err: unknown) => {
        if (![...publication.tracks.values()].some((t) => t.ready)) throw err;
      });
      if (this.publications.get(publisher) !== publication) throw new SfuError('closed', `${publisher} left`);
      // Again: others may have come while the tracks were awaited.
      if (!this.sessions.get(peer)?.has(publisher)) this.admitSubscription(peer, publication);
    }
    this.session(peer, signals).add(publication, options.layer);
  }

  /** SfuError `over-capacity` when `peer` may not subscribe to `publication` (a new subscriber, more forwarded streams). */
  private admitSubscription(peer: string, publication: Publication): void {
    this.capacity.admit(this, { subscriber: !this.sessions.has(peer), forwards: publication.tracks.size });
  }

  private session(peer: string, signals: SessionSignals): SubscriberSession {
    let session = this.sessions.get(peer);
    if (!session) {
      const transport = this.engine.createSubscriberTransport();
      const created = new SubscriberSession(peer, transport, signals, this.options.answerTimeoutMs ?? ANSWER_TIMEOUT_MS, this.options.maxAudioForwards ?? DEFAULT_MAX_AUDIO_FORWARDS);
      // Its first sections start on the room's current choice, not on everyone's audio.
      created.rankAudio(this.speakers.ranking(Date.now()), Date.now());
      transport.onClose(() => {
        if (this.sessions.get(peer) === created) this.sessions.delete(peer);
        created.transportClosed();
      });
      this.sessions.set(peer, (session = created));
    }
    return session;
  }

  /**
   * Applies `peer`'s answer to its session's outstanding offer; the SFU's candidates follow the
   * first one through `signals.candidates`. SfuError `bad-request` for an answer that does not
   * fit the outstanding offer (which stays outstanding).
   */
  async acceptAnswer(peer: string, answerSdp: string): Promise<void> {
    const session = this.sessions.get(peer);
    if (!session) throw new SfuError('not-found', `${peer} has no subscriber session in ${this.name}`);
    await session.acceptAnswer(answerSdp);
  }

  /**
   * Switches `peer`'s video of `publisher` (one track by the publisher's MID, or all) to layer
   * `rid` on its next keyframe; null pauses it. `rid` is a ceiling: the member's bandwidth
   * estimate may choose a lower layer (layer-policy.ts).
   */
  setLayer(peer: string, publisher: string, rid: string | null, trackMid?: string): void {
    const session = this.sessions.get(peer);
    if (!session) throw new SfuError('not-found', `${peer} has no subscription to ${publisher}`);
    session.setLayer(publisher, rid, trackMid);
  }

  /** Layer being forwarded to `peer` for each of `publisher`'s video tracks, and the switches so far. */
  layers(peer: string, publisher: string): Layers {
    return this.sessions.get(peer)?.layers(publisher) ?? [];
  }

  /** The subscriber transport of `peer`'s session, if it has one. */
  sessionTransport(peer: string): SubscriberSession['transport'] | undefined {
    return this.sessions.get(peer)?.transport;
  }

  /**
   * The publisher a viewer gets when it names none: the active speaker when it sends video,
   * else the most recently started publisher that sends video.
   */
  featured(): string | undefined {
    const sendsVideo = (p: Publication | undefined): boolean => p !== undefined && [...p.tracks.values()].some((t) => t.offered.kind === 'video');
    const speaker = this.activeSpeaker;
    if (speaker !== undefined && sendsVideo(this.publications.get(speaker))) return speaker;
    let featured: string | undefined;
    for (const p of this.publications.values()) if (sendsVideo(p)) featured = p.peer;
    return featured;
  }

  /**
   * Answers a viewer's offer (a WHEP player: recvonly audio and video) with `publisher`'s
   * tracks, simulcast video on its highest layer (the last RID the publisher lists) as the
   * ceiling under the viewer's bandwidth estimate when it sends REMB (layer-policy.ts). A
   * viewer is not a participant: it publishes nothing and is counted apart (viewerCount).
   * Throws SfuError `not-found` (no such publisher), `unsupported-codec` (the offer accepts
   * none of its codecs), `bad-sdp`.
   */
  async view(viewer: string, publisher: string, offerSdp: string, options: ViewOptions = {}): Promise<string> {
    const publication = this.publications.get(publisher);
    if (!publication) throw new SfuError('not-found', `${publisher} does not publish in ${this.name}`);
    if (this.viewers.has(viewer)) throw new SfuError('bad-request', `${viewer} already views in ${this.name}`);
    await waitUntil(() => publication.ready() || !this.publications.has(publisher), `${publisher}'s tracks`, 10_000);
    if (!this.publications.has(publisher)) throw new SfuError('not-found', `${publisher} left`);
    this.capacity.admit(this, { subscriber: true, forwards: publication.tracks.size });
    const transport = this.engine.createViewerTransport();
    const viewing = new Viewing(viewer, publication, transport);
    viewing.forwards = publication.tracks.size;
    this.viewers.set(viewer, viewing);
    publication.feeds.add(viewing);
    transport.onClose(() => {
      if (this.unview(viewing)) options.onEnd?.();
    });
    try {
      const tracks = [...publication.tracks.values()];
      const outs = await transport.acceptOffer(offerSdp, tracks.map((t) => ({ kind: t.offered.kind, mimeType: t.mimeType! })));
      if (outs.every((o) => o === undefined)) {
        const codecs = tracks.map((t) => t.mimeType).join(', ');
        throw new SfuError('unsupported-codec', `the viewer's offer accepts none of ${publisher}'s codecs (${codecs}) in a recvonly audio or video section`);
      }
      tracks.forEach((track, i) => {
        const out = outs[i];
        if (out) viewing.sinks.push({ track, sink: sinkFor(track, out, track.offered.rids.at(-1)) });
      });
      viewing.forwards = viewing.sinks.length;
      const answer = await transport.createAnswer();
      if (this.viewers.get(viewer) === viewing) this.countViewer(viewing, true);
      transport.connected().then(
        () => {
          if (this.viewers.get(viewer) === viewing) viewing.attach();
        },
        () => transport.close(),
      );
      return answer;
    } catch (err) {
      this.unview(viewing);
      transport.close();
      throw err;
    }
  }

  /** Candidates a viewer trickled after its offer (a WHEP client's PATCH). */
  async addViewerCandidates(viewer: string, candidates: { candidate: string; sdpMid?: string }[]): Promise<void> {
    const viewing = this.viewers.get(viewer);
    if (!viewing) throw new SfuError('not-found', `${viewer} does not view in ${this.name}`);
    for (const c of candidates) await viewing.transport.addRemoteCandidate(c);
  }

  /** Viewers in the room, or of one publisher. */
  viewerCount(publisher?: string): number {
    if (publisher === undefined) return this.viewers.size;
    let n = 0;
    for (const v of this.viewers.values()) if (v.publication.peer === publisher) n++;
    return n;
  }

  /** Layers being forwarded to `viewer`, as layers() for a subscriber. */
  viewerLayers(viewer: string): ReturnType<Room['layers']> {
    const viewing = this.viewers.get(viewer);
    return (viewing?.sinks ?? [])
      .filter(({ track }) => track.offered.kind === 'video')
      .map(({ track, sink }) => ({ mid: track.offered.mid, current: sink.forwarder.current, target: sink.forwarder.target, switches: sink.forwarder.layerSwitches }));
  }

  /** The publications of the room, with their tracks as offered. */
  published(): Published[] {
    return [...this.publications.values()].map((p) => this.named({ publisher: p.peer, tracks: [...p.tracks.values()].map((t) => t.offered) }));
  }

  /**
   * Calls `listener` when a publication starts (its tracks, once the answer is made) and when
   * it ends (`tracks: []`: unpublished, left, or its transport failed), whoever published it
   * (a hub member, a WHIP client).
   */
  onPublications(listener: (change: Published) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Ends what `peer` publishes (and the forwards of it); its subscriptions stay. */
  unpublish(peer: string): void {
    const publication = this.publications.get(peer);
    if (!publication) throw new SfuError('not-found', `${peer} does not publish in ${this.name}`);
    publication.transport.close();
  }

  /** Removes `publisher`'s tracks from `peer`'s session; a new offer follows (the session stays open). */
  /** Removes `publisher`'s sections from `peer`'s session; without `publisher`, ends the whole session (the client starts over). */
  unsubscribe(peer: string, publisher?: string): void {
    const session = this.sessions.get(peer);
    if (!session) throw new SfuError('not-found', `${peer} has no ${publisher === undefined ? 'subscriber session' : `subscription to ${publisher}`}`);
    if (publisher === undefined) this.closeSession(peer);
    else session.remove(publisher);
  }

  /** Ends everything `peer` publishes, subscribes to and views. */
  leave(peer: string): void {
    const publication = this.publications.get(peer);
    if (publication) publication.transport.close();
    this.closeSession(peer);
    this.viewers.get(peer)?.transport.close();
  }

  private closeSession(peer: string): void {
    const session = this.sessions.get(peer);
    if (!session) return;
    this.sessions.delete(peer);
    session.close();
  }

  /** Publications, and subscriptions (member × publisher pairs, over all sessions). */
  /** What the room's publishers send, all tracks and layers (bit/s, sampled every feedback interval). */
  bitrate(): number {
    let n = 0;
    for (const p of this.publications.values()) for (const t of p.tracks.values()) n += t.bitrate;
    return n;
  }

  counts(): { publishers: number; subscriptions: number } {
    let subscriptions = 0;
    for (const s of this.sessions.values()) subscriptions += s.publishers.length;
    return { publishers: this.publications.size, subscriptions };
  }

  /** Subscriber sessions (one transport each). */
  sessionCount(): number {
    return this.sessions.size;
  }

  /** Publishers (members and WHIP streams), for SfuLimits.publishersPerRoom. */
  publisherCount(): number {
    return this.publications.size;
  }

  /** Members with a subscriber session, and viewers: SfuLimits.subscribersPerRoom counts these. */
  subscriberCount(): number {
    return this.sessions.size + this.viewers.size;
  }

  /** Publisher tracks sent to a session or a viewer (SfuLimits.forwardedStreams). */
  forwardedStreams(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.forwardCount();
    for (const v of this.viewers.values()) n += v.forwards;
    return n;
  }

  get empty(): boolean {
    return this.publications.size === 0 && this.sessions.size === 0 && this.viewers.size === 0;
  }

  close(): void {
    for (const p of [...this.publications.values()]) p.transport.close();
    for (const peer of [...this.sessions.keys()]) this.closeSession(peer);
    for (const v of [...this.viewers.values()]) v.transport.close();
    clearInterval(this.speakerTimer);
    this.speakerTimer = undefined;
    clearInterval(this.feedbackTimer);
    this.feedbackTimer = undefined;
  }

  /** Congestion feedback while anyone publishes: REMB to publishers, subscribers' layers under their estimates. */
  private startFeedback(): void {
    if (this.feedbackTimer) return;
    this.feedbackTimer = setInterval(() => {
      const now = performance.now();
      for (const publication of this.publications.values()) this.layerSwitchesByBandwidth += publication.feedback(now);
    }, FEEDBACK_INTERVAL_MS);
    this.feedbackTimer.unref();
  }

  private forgetPublication(publication: Publication): void {
    if (this.publications.get(publication.peer) !== publication) return;
    this.publications.delete(publication.peer);
    const wasSpeaker = this.speakers.current === publication.peer;
    this.speakers.remove(publication.peer);
    if (this.publications.size === 0) {
      clearInterval(this.speakerTimer);
      this.speakerTimer = undefined;
      clearInterval(this.feedbackTimer);
      this.feedbackTimer = undefined;
    }
    if (wasSpeaker) this.announceSpeaker(undefined);
    // A publisher that leaves ends its forwards: its viewers end, its subscribers' sessions re-offer without it.
    publication.ended = true;
    for (const v of this.viewers.values()) if (v.publication === publication) v.transport.close();
    publication.changed();
    this.announce({ publisher: publication.peer, tracks: [] });
  }

  /** True when this call removed it. */
  private unview(viewing: Viewing): boolean {
    viewing.detach();
    viewing.publication.feeds.delete(viewing);
    this.countViewer(viewing, false);
    if (this.viewers.get(viewing.peer) !== viewing) return false;
    this.viewers.delete(viewing.peer);
    return true;
  }

  /**
   * Calls `listener` with the number of the room's viewers whenever it changes: a viewer
   * counts once its answer is made, until it is gone. A viewer refused while answering never counts.
   */
  onViewers(listener: (count: number) => void): () => void {
    this.viewerListeners.add(listener);
    return () => this.viewerListeners.delete(listener);
  }

  /** Counts `viewing` in or out, and tells viewerListeners when that changed the count. */
  private countViewer(viewing: Viewing, answered: boolean): void {
    if (this.answeredViewers.has(viewing) === answered) return;
    if (answered) this.answeredViewers.add(viewing);
    else this.answeredViewers.delete(viewing);
    for (const listener of this.viewerListeners) listener(this.answeredViewers.size);
  }

  private named(change: Published): Published {
    const name = this.names.get(change.publisher);
    return name === undefined ? change : { ...change, name };
  }

  private announce(change: Published): void {
    change = this.named(change);
    if (change.tracks.length === 0) this.names.delete(change.publisher);
    for (const listener of this.changeListeners) listener(change);
  }
}
