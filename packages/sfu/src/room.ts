/**
 * Rooms of the SFU: publishers send their tracks once, each subscriber gets each track through
 * a LayerForwarder (its layer) and its own outgoing track (its SSRC). Signaling is a direct API
 * whose calls map one to one onto the hub's signal frames:
 *   publish(peer, offer) → answer                        (publisher's offer, the SFU's answer)
 *   subscribe(peer, publisher, {layer}) → offer           (the SFU offers, its candidates held back)
 *   acceptAnswer(peer, publisher, answer, onCandidates)   (the subscriber's answer; the SFU's candidates follow it)
 *   setLayer(peer, publisher, rid | null)                 (a layer request; null pauses)
 *   view(viewer, publisher, offer) → answer              (a viewer's offer, e.g. WHEP; the SFU answers)
 *   leave(peer)
 */
import {
  SfuError,
  type Engine,
  type IceCandidate,
  type IncomingStream,
  type OutgoingTrack,
  type PublisherTransport,
  type SubscriberTransport,
  type ViewerTransport,
} from './engine.js';
import { readAudioLevel, type AudioLevel } from './audio-level.js';
import { RtpRewriter } from './rewriter.js';
import { describeOffer, type OfferedTrack } from './sdp.js';
import { LayerForwarder } from './simulcast.js';
import { LayerPolicy } from './layer-policy.js';
import { RateMeter } from './rate-meter.js';
import { DEFAULT_MAX_PUBLISHER_BITRATE, ESTIMATE_INTERVAL_MS, ReceiveEstimator } from './receive-estimator.js';
import { ActiveSpeakerDetector, type SpeakerOptions } from './speaker.js';
import { waitUntil } from './wait.js';

interface Sink {
  forwarder: LayerForwarder;
  out: OutgoingTrack;
  /** The layer from the subscriber's bandwidth estimate, under the layer it asked for. */
  policy: LayerPolicy;
}

/** One published audio or video track and its layers as they arrive. */
class PublishedTrack {
  readonly streams = new Map<string, IncomingStream>();
  readonly sinks = new Set<Sink>();
  /** Each layer's received bitrate (by RID; '' without simulcast). */
  readonly rates = new Map<string, RateMeter>();
  forwarded = 0;
  received = 0;

  constructor(
    readonly offered: OfferedTrack,
    /** Called with each packet's RFC 6464 level, when the track carries them. */
    private readonly onLevel?: (level: AudioLevel) => void,
    /** Called with each packet, for the publisher's bandwidth estimate. */
    private readonly onPacket?: (packet: Buffer) => void,
  ) {}

  get mimeType(): string | undefined {
    return this.streams.values().next().value?.codec.mimeType;
  }

  add(stream: IncomingStream): void {
    this.streams.set(stream.rid ?? '', stream);
    const meter = new RateMeter(performance.now());
    this.rates.set(stream.rid ?? '', meter);
    const levelId = this.onLevel ? this.offered.audioLevelId : undefined;
    stream.onRtp((packet) => {
      this.received++;
      meter.add(packet.length);
      this.onPacket?.(packet);
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
  }

  requestKeyframe(rid: string | undefined): void {
    this.streams.get(rid ?? '')?.requestKeyframe();
  }

  /** A layer's received bitrate as of the last sample (bit/s). */
  rate(rid: string | undefined): number {
    return this.rates.get(rid ?? '')?.rate ?? 0;
  }
}

class Publication {
  readonly tracks = new Map<string, PublishedTrack>();
  readonly subscriptions = new Set<Subscription<Closable>>();
  /** The bitrate the publisher may send (REMB), from what arrives of it. */
  readonly estimator: ReceiveEstimator;

  constructor(
    readonly peer: string,
    readonly transport: PublisherTransport,
    maxBitrate: number,
  ) {
    this.estimator = new ReceiveEstimator({ max: maxBitrate });
  }

  packet(packet: Buffer): void {
    if (packet.length >= 12) this.estimator.packet(packet.readUInt32BE(8), packet.readUInt16BE(2), packet.length, performance.now());
  }

  /** Every FEEDBACK_INTERVAL_MS: the layers' rates, the REMB to the publisher, and each subscriber's layer under its estimate; returns the estimate's layer switches. */
  feedback(now: number): number {
    for (const track of this.tracks.values()) for (const meter of track.rates.values()) meter.sample(now);
    const step = this.estimator.update(now);
    if (step) this.transport.sendBitrateEstimate({ bitrate: step.estimate, ssrcs: this.estimator.mediaSsrcs });
    let switches = 0;
    for (const subscription of this.subscriptions) {
      for (const { track, sink } of subscription.sinks) {
        if (track.offered.rids.length < 2) continue;
        const { policy } = sink;
        const [before, byBandwidth] = [policy.chosen, policy.ups + policy.downs];
        const chosen = policy.update((rid) => track.rate(rid), now);
        if (chosen !== before) sink.forwarder.setTarget(chosen);
        switches += policy.ups + policy.downs - byBandwidth;
      }
    }
    return switches;
  }

  /** Every offered track has its first stream (so its codec is known). */
  ready(): boolean {
    return [...this.tracks.values()].every((t) => t.streams.size > 0);
  }
}

interface Closable {
  close(): void;
}

class Subscription<T extends Closable = SubscriberTransport> {
  readonly sinks: { track: PublishedTrack; sink: Sink }[] = [];

  constructor(
    readonly peer: string,
    readonly publication: Publication,
    readonly transport: T,
  ) {}

  /** Starts forwarding: before the transport could send nothing would arrive, and the first packet should be the keyframe asked for now. */
  attach(): void {
    for (const { track, sink } of this.sinks) {
      track.sinks.add(sink);
      sink.forwarder.setTarget(sink.forwarder.target);
    }
  }

  detach(): void {
    for (const { track, sink } of this.sinks) track.sinks.delete(sink);
    this.sinks.length = 0;
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

const subscriptionKey = (peer: string, publisher: string): string => `${peer}\u0000${publisher}`;

/** The sink of one published track toward one outgoing track, starting on layer `initial` (RID; undefined without simulcast). */
function sinkFor(track: PublishedTrack, out: OutgoingTrack, initial: string | undefined): Sink {
  const rewriter = new RtpRewriter({ ssrc: out.ssrc, payloadType: out.codec.payloadType, clockRate: out.codec.clockRate });
  const forwarder = new LayerForwarder(track.mimeType!, rewriter, (rid) => track.requestKeyframe(rid), initial);
  out.onKeyframeRequest(() => forwarder.keyframeLost());
  const policy = new LayerPolicy(track.offered.rids, initial);
  out.onBitrateEstimate((bitrate) => policy.estimated(bitrate, performance.now()));
  return { forwarder, out, policy };
}

/** How often layer rates are sampled, publishers' estimates updated (ESTIMATE_INTERVAL_MS) and subscribers' layers re-decided. */
const FEEDBACK_INTERVAL_MS = ESTIMATE_INTERVAL_MS;

export interface RoomOptions {
  /** The most a publisher is told it may send (REMB), bit/s; default DEFAULT_MAX_PUBLISHER_BITRATE. */
  maxPublisherBitrate?: number;
}

/** How often the active speaker is re-evaluated while audio levels arrive. */
const SPEAKER_INTERVAL_MS = 200;

/** What a publisher sends, as announced to the room (`pinhole:sfu-tracks`, docs/protocol/sfu.md). */
export interface Published {
  publisher: string;
  tracks: OfferedTrack[];
}

export class Room {
  private readonly publications = new Map<string, Publication>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly speakers: ActiveSpeakerDetector;
  private readonly speakerListeners = new Set<(peer: string | undefined) => void>();
  private speakerTimer: NodeJS.Timeout | undefined;
  private readonly viewers = new Map<string, Subscription<ViewerTransport>>();
  private readonly changeListeners = new Set<(change: Published) => void>();
  private feedbackTimer: NodeJS.Timeout | undefined;
  /** Layer switches made by subscribers' bandwidth estimates (layer-policy.ts), not by requests. */
  layerSwitchesByBandwidth = 0;

  constructor(
    readonly name: string,
    private readonly engine: Engine,
    speakerOptions: SpeakerOptions = {},
    private readonly options: RoomOptions = {},
  ) {
    this.speakers = new ActiveSpeakerDetector(speakerOptions);
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
      const changed = this.speakers.evaluate(Date.now());
      if (changed !== undefined) this.announceSpeaker(changed);
    }, SPEAKER_INTERVAL_MS);
    this.speakerTimer.unref();
  }

  private announceSpeaker(peer: string | undefined): void {
    for (const l of [...this.speakerListeners]) l(peer);
  }

  /** Applies a publisher's offer (audio and/or video, simulcast or not) and returns the SFU's answer. */
  async publish(peer: string, offerSdp: string): Promise<string> {
    if (this.publications.has(peer)) throw new SfuError('bad-request', `${peer} already publishes in ${this.name}`);
    const offered = describeOffer(offerSdp);
    const transport = this.engine.createPublisherTransport();
    const publication = new Publication(peer, transport, this.options.maxPublisherBitrate ?? DEFAULT_MAX_PUBLISHER_BITRATE);
    for (const track of offered) {
      publication.tracks.set(track.mid, new PublishedTrack(track, (level) => this.level(peer, level), (packet) => publication.packet(packet)));
    }
    this.startFeedback();
    transport.onStream((stream) => publication.tracks.get(stream.mid)?.add(stream));
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

  /** Creates the SFU's offer of `publisher`'s tracks to `peer`, without the SFU's candidates (see acceptAnswer). */
  async subscribe(peer: string, publisher: string, options: SubscribeOptions = {}): Promise<string> {
    const publication = this.publications.get(publisher);
    if (!publication) throw new SfuError('not-found', `${publisher} does not publish in ${this.name}`);
    const key = subscriptionKey(peer, publisher);
    if (this.subscriptions.has(key)) throw new SfuError('bad-request', `${peer} already subscribes to ${publisher}`);
    await waitUntil(() => publication.ready() || !this.publications.has(publisher), `${publisher}'s tracks`, 10_000);
    if (!this.publications.has(publisher)) throw new SfuError('closed', `${publisher} left`);
    const transport = this.engine.createSubscriberTransport();
    const subscription = new Subscription(peer, publication, transport);
    try {
      for (const track of publication.tracks.values()) {
        const mimeType = track.mimeType!;
        const out = transport.addTrack(mimeType);
        const rids = track.offered.rids;
        let initial: string | undefined;
        if (rids.length > 0) {
          initial = options.layer ?? rids[0];
          if (!rids.includes(initial!)) throw new SfuError('bad-request', `layer ${initial} is not one of ${rids.join(', ')}`);
        }
        subscription.sinks.push({ track, sink: sinkFor(track, out, initial) });
      }
      transport.onClose(() => this.forgetSubscription(subscription));
      this.subscriptions.set(key, subscription);
      publication.subscriptions.add(subscription);
      return await transport.createOffer();
    } catch (err) {
      transport.close();
      this.forgetSubscription(subscription);
      throw err;
    }
  }

  /**
   * Applies the subscriber's answer, then hands the SFU's candidates, which the offer held
   * back, to `onCandidates` for the subscriber (trickle, RFC 8838: a later `signal`); media
   * flows once this resolves. Why held back: engine.ts.
   */
  async acceptAnswer(peer: string, publisher: string, answerSdp: string, onCandidates: (candidates: IceCandidate[]) => void): Promise<void> {
    const subscription = this.subscriptions.get(subscriptionKey(peer, publisher));
    if (!subscription) throw new SfuError('not-found', `${peer} has no subscription to ${publisher}`);
    await subscription.transport.acceptAnswer(answerSdp, onCandidates);
    subscription.attach();
  }

  /**
   * Switches `peer`'s video of `publisher` to layer `rid` on its next keyframe; null pauses it.
   * `rid` is a ceiling: the subscriber's bandwidth estimate may choose a lower layer (layer-policy.ts).
   */
  setLayer(peer: string, publisher: string, rid: string | null): void {
    const subscription = this.subscriptions.get(subscriptionKey(peer, publisher));
    if (!subscription) throw new SfuError('not-found', `${peer} has no subscription to ${publisher}`);
    for (const { track, sink } of subscription.sinks) {
      if (track.offered.rids.length === 0) continue;
      if (rid !== null && !track.offered.rids.includes(rid)) {
        throw new SfuError('bad-request', `layer ${rid} is not one of ${track.offered.rids.join(', ')}`);
      }
      sink.policy.request(rid, performance.now());
      sink.forwarder.setTarget(sink.policy.chosen);
    }
  }

  /** Layer being forwarded to `peer` for each of `publisher`'s video tracks, and the switches so far. */
  layers(peer: string, publisher: string): { mid: string; current: string | undefined | null; target: string | undefined | null; switches: number }[] {
    const subscription = this.subscriptions.get(subscriptionKey(peer, publisher));
    return subscription ? Room.layersOf(subscription) : [];
  }

  private static layersOf(subscription: Subscription<Closable>): { mid: string; current: string | undefined | null; target: string | undefined | null; switches: number }[] {
    return subscription.sinks
      .filter(({ track }) => track.offered.kind === 'video')
      .map(({ track, sink }) => ({
        mid: track.offered.mid,
        current: sink.forwarder.current,
        target: sink.forwarder.target,
        switches: sink.forwarder.layerSwitches,
      }));
  }

  /**
   * The publisher a viewer gets when it names none: the most recently started publisher that
   * sends video. A stand-in until active-speaker detection exists (issue 15), which will
   * replace this one method.
   */
  featured(): string | undefined {
    let featured: string | undefined;
    for (const p of this.publications.values()) {
      if ([...p.tracks.values()].some((t) => t.offered.kind === 'video')) featured = p.peer;
    }
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
    const transport = this.engine.createViewerTransport();
    const viewing = new Subscription(viewer, publication, transport);
    this.viewers.set(viewer, viewing);
    publication.subscriptions.add(viewing);
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
      const answer = await transport.createAnswer();
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
    return viewing ? Room.layersOf(viewing) : [];
  }

  /** The publications of the room, with their tracks as offered. */
  published(): Published[] {
    return [...this.publications.values()].map((p) => ({ publisher: p.peer, tracks: [...p.tracks.values()].map((t) => t.offered) }));
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

  /** Ends `peer`'s subscription to `publisher`. */
  unsubscribe(peer: string, publisher: string): void {
    const subscription = this.subscriptions.get(subscriptionKey(peer, publisher));
    if (!subscription) throw new SfuError('not-found', `${peer} has no subscription to ${publisher}`);
    subscription.transport.close();
  }

  /** Ends everything `peer` publishes, subscribes to and views. */
  leave(peer: string): void {
    const publication = this.publications.get(peer);
    if (publication) publication.transport.close();
    for (const subscription of [...this.subscriptions.values()]) {
      if (subscription.peer === peer) subscription.transport.close();
    }
    this.viewers.get(peer)?.transport.close();
  }

  counts(): { publishers: number; subscriptions: number } {
    return { publishers: this.publications.size, subscriptions: this.subscriptions.size };
  }

  get empty(): boolean {
    return this.publications.size === 0 && this.subscriptions.size === 0 && this.viewers.size === 0;
  }

  close(): void {
    for (const p of [...this.publications.values()]) p.transport.close();
    for (const s of [...this.subscriptions.values()]) s.transport.close();
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
    // A publisher that leaves ends its forwards.
    for (const s of [...publication.subscriptions]) s.transport.close();
    this.announce({ publisher: publication.peer, tracks: [] });
  }

  /** True when this call removed it. */
  private unview(viewing: Subscription<ViewerTransport>): boolean {
    viewing.detach();
    viewing.publication.subscriptions.delete(viewing);
    if (this.viewers.get(viewing.peer) !== viewing) return false;
    this.viewers.delete(viewing.peer);
    return true;
  }

  private announce(change: Published): void {
    for (const listener of this.changeListeners) listener(change);
  }

  private forgetSubscription(subscription: Subscription): void {
    subscription.detach();
    subscription.publication.subscriptions.delete(subscription);
    const key = subscriptionKey(subscription.peer, subscription.publication.peer);
    if (this.subscriptions.get(key) === subscription) this.subscriptions.delete(key);
  }
}
