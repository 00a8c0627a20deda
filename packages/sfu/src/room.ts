/**
 * Rooms of the SFU: publishers send their tracks once, each subscriber gets each track through
 * a LayerForwarder (its layer) and its own outgoing track (its SSRC). Signaling is a direct API
 * whose calls map one to one onto the hub's signal frames:
 *   publish(peer, offer) → answer                        (publisher's offer, the SFU's answer)
 *   subscribe(peer, publisher, {layer}) → offer           (the SFU offers)
 *   acceptAnswer(peer, publisher, answer)                 (the subscriber's answer)
 *   setLayer(peer, publisher, rid | null)                 (a layer request; null pauses)
 *   leave(peer)
 */
import { SfuError, type Engine, type IncomingStream, type OutgoingTrack, type PublisherTransport, type SubscriberTransport } from './engine.js';
import { RtpRewriter } from './rewriter.js';
import { describeOffer, type OfferedTrack } from './sdp.js';
import { LayerForwarder } from './simulcast.js';
import { waitUntil } from './wait.js';

interface Sink {
  forwarder: LayerForwarder;
  out: OutgoingTrack;
}

/** One published audio or video track and its layers as they arrive. */
class PublishedTrack {
  readonly streams = new Map<string, IncomingStream>();
  readonly sinks = new Set<Sink>();
  forwarded = 0;
  received = 0;

  constructor(readonly offered: OfferedTrack) {}

  get mimeType(): string | undefined {
    return this.streams.values().next().value?.codec.mimeType;
  }

  add(stream: IncomingStream): void {
    this.streams.set(stream.rid ?? '', stream);
    stream.onRtp((packet) => {
      this.received++;
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
}

class Publication {
  readonly tracks = new Map<string, PublishedTrack>();
  readonly subscriptions = new Set<Subscription>();

  constructor(
    readonly peer: string,
    readonly transport: PublisherTransport,
  ) {}

  /** Every offered track has its first stream (so its codec is known). */
  ready(): boolean {
    return [...this.tracks.values()].every((t) => t.streams.size > 0);
  }
}

class Subscription {
  readonly sinks: { track: PublishedTrack; sink: Sink }[] = [];

  constructor(
    readonly peer: string,
    readonly publication: Publication,
    readonly transport: SubscriberTransport,
  ) {}

  detach(): void {
    for (const { track, sink } of this.sinks) track.sinks.delete(sink);
    this.sinks.length = 0;
  }
}

export interface SubscribeOptions {
  /** Simulcast layer to start with (RID); default the first the publisher sends (Chromium: "q", the lowest). */
  layer?: string;
}

const subscriptionKey = (peer: string, publisher: string): string => `${peer}\u0000${publisher}`;

/** What a publisher sends, as announced to the room (`pinhole:sfu-tracks`, docs/protocol/sfu.md). */
export interface Published {
  publisher: string;
  tracks: OfferedTrack[];
}

export class Room {
  private readonly publications = new Map<string, Publication>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly changeListeners = new Set<(change: Published) => void>();

  constructor(
    readonly name: string,
    private readonly engine: Engine,
  ) {}

  /** Applies a publisher's offer (audio and/or video, simulcast or not) and returns the SFU's answer. */
  async publish(peer: string, offerSdp: string): Promise<string> {
    if (this.publications.has(peer)) throw new SfuError('bad-request', `${peer} already publishes in ${this.name}`);
    const offered = describeOffer(offerSdp);
    const transport = this.engine.createPublisherTransport();
    const publication = new Publication(peer, transport);
    for (const track of offered) publication.tracks.set(track.mid, new PublishedTrack(track));
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

  /** Creates the SFU's offer of `publisher`'s tracks to `peer`. */
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
        const rewriter = new RtpRewriter({ ssrc: out.ssrc, payloadType: out.codec.payloadType, clockRate: out.codec.clockRate });
        const forwarder = new LayerForwarder(mimeType, rewriter, (rid) => track.requestKeyframe(rid), initial);
        out.onKeyframeRequest(() => forwarder.keyframeLost());
        subscription.sinks.push({ track, sink: { forwarder, out } });
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

  /** Applies the subscriber's answer; media flows once this resolves. */
  async acceptAnswer(peer: string, publisher: string, answerSdp: string): Promise<void> {
    const subscription = this.subscriptions.get(subscriptionKey(peer, publisher));
    if (!subscription) throw new SfuError('not-found', `${peer} has no subscription to ${publisher}`);
    await subscription.transport.acceptAnswer(answerSdp);
    // The sinks join only now: before the answer nothing could be sent, and the first packet
    // forwarded should be the keyframe asked for when the forwarders were made.
    for (const { track, sink } of subscription.sinks) {
      track.sinks.add(sink);
      sink.forwarder.setTarget(sink.forwarder.target);
    }
  }

  /** Switches `peer`'s video of `publisher` to layer `rid` on its next keyframe; null pauses it. */
  setLayer(peer: string, publisher: string, rid: string | null): void {
    const subscription = this.subscriptions.get(subscriptionKey(peer, publisher));
    if (!subscription) throw new SfuError('not-found', `${peer} has no subscription to ${publisher}`);
    for (const { track, sink } of subscription.sinks) {
      if (track.offered.rids.length === 0) continue;
      if (rid !== null && !track.offered.rids.includes(rid)) {
        throw new SfuError('bad-request', `layer ${rid} is not one of ${track.offered.rids.join(', ')}`);
      }
      sink.forwarder.setTarget(rid);
    }
  }

  /** Layer being forwarded to `peer` for each of `publisher`'s video tracks, and the switches so far. */
  layers(peer: string, publisher: string): { mid: string; current: string | undefined | null; target: string | undefined | null; switches: number }[] {
    const subscription = this.subscriptions.get(subscriptionKey(peer, publisher));
    if (!subscription) return [];
    return subscription.sinks
      .filter(({ track }) => track.offered.kind === 'video')
      .map(({ track, sink }) => ({
        mid: track.offered.mid,
        current: sink.forwarder.current,
        target: sink.forwarder.target,
        switches: sink.forwarder.layerSwitches,
      }));
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

  /** Ends everything `peer` publishes and subscribes to. */
  leave(peer: string): void {
    const publication = this.publications.get(peer);
    if (publication) publication.transport.close();
    for (const subscription of [...this.subscriptions.values()]) {
      if (subscription.peer === peer) subscription.transport.close();
    }
  }

  counts(): { publishers: number; subscriptions: number } {
    return { publishers: this.publications.size, subscriptions: this.subscriptions.size };
  }

  get empty(): boolean {
    return this.publications.size === 0 && this.subscriptions.size === 0;
  }

  close(): void {
    for (const p of [...this.publications.values()]) p.transport.close();
    for (const s of [...this.subscriptions.values()]) s.transport.close();
  }

  private forgetPublication(publication: Publication): void {
    if (this.publications.get(publication.peer) !== publication) return;
    this.publications.delete(publication.peer);
    // A publisher that leaves ends its forwards.
    for (const s of [...publication.subscriptions]) s.transport.close();
    this.announce({ publisher: publication.peer, tracks: [] });
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
