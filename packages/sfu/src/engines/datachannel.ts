/**
 * node-datachannel engine (libdatachannel, C++): subscribers and viewers only. Its send path costs about a
 * fifth of werift's CPU per packet (bench/sfu/RESULTS.md), and the fan-out to subscribers is
 * what decides an SFU's capacity. It cannot receive a publisher: its answers refuse simulcast
 * and it drops packets of SSRCs the SDP did not announce. Here it only sends, on send-only
 * tracks whose SSRCs the SFU chooses, so rewritten packets fit.
 */
import { randomInt } from 'node:crypto';
import nodeDataChannel from 'node-datachannel';
import { SfuError, type IceCandidate, type MediaKind, type SubscriberEngine, type SubscriberTrack, type SubscriberTransport, type ViewerEngine } from '../engine.js';
import { holdBackCandidates } from '../sdp.js';
import { nextId, offeredCodec, waitUntil } from './common.js';
import { outgoingTrack } from './datachannel-track.js';
import { DataChannelViewer } from './datachannel-viewer.js';

const { Audio, PeerConnection, Video } = nodeDataChannel;

export interface DataChannelOptions {
  /** UDP ports for ICE, inclusive (default: any). */
  portRange?: [number, number];
}

type Closer = () => void;
type NdcTrack = ReturnType<InstanceType<typeof PeerConnection>['addTrack']>;

/** One media section of a subscriber transport: carrying a track, or inactive and free for the next track of its kind. */
interface Section {
  readonly mid: string;
  readonly kind: MediaKind;
  /** The track on it now; undefined while inactive. */
  track: NdcTrack | undefined;
  /** What its inactive form offers: the codec of its last track (an m-line needs one). */
  mimeType: string;
  /** Set when its track is removed: that track's OutgoingTrack sends nothing more. */
  retired: { value: boolean };
  /** Inactive in the last offer made / in an answered offer: only then may a new track take it. */
  offeredInactive: boolean;
  free: boolean;
}

export class DataChannelSubscriber implements SubscriberTransport {
  readonly id = nextId('dsub');
  private readonly pc: InstanceType<typeof PeerConnection>;
  private readonly sections: Section[] = [];
  /** Held here: node-datachannel stops calling a track's callbacks once its JS object is collected. */
  private readonly held: NdcTrack[] = [];
  private readonly closeListeners: Closer[] = [];
  private closed = false;
  private connected = false;
  /** An answer was applied: later offers renegotiate a connected transport. */
  private answered = false;
  /** The offer's candidates, held back until the answer is applied (engine.ts). */
  private heldCandidates: IceCandidate[] = [];
  /** Candidates handed out so far (`candidate:…`): a renegotiation offer repeats them. */
  private readonly given = new Set<string>();

  constructor(options: DataChannelOptions, private readonly released: Closer) {
    this.pc = new PeerConnection(this.id, {
      iceServers: [],
      disableAutoNegotiation: true,
      ...(options.portRange ? { portRangeBegin: options.portRange[0], portRangeEnd: options.portRange[1] } : {}),
    });
    this.pc.onStateChange((state) => {
      if (state === 'connected') this.connected = true;
      // libdatachannel calls back on its own thread's schedule; closing from inside the callback is deferred.
      if (state === 'failed' || state === 'closed') setImmediate(() => this.close());
    });
  }

  /** Media sections so far, active or not (the offer's m-lines). */
  get sectionCount(): number {
    return this.sections.length;
  }

  addTrack(mimeType: string): SubscriberTrack {
    if (this.closed) throw new SfuError('closed', 'subscriber transport closed');
    const codec = offeredCodec(mimeType);
    // Recycled rather than removed: libdatachannel offers a closed track's section with port 0
    // forever and never reuses its MID (docs/architecture.md, Media server, "Renegotiation").
    // A section is reused once an answer took it as inactive, so that the subscriber sees its
    // old track end before a new one starts there (a browser fires ontrack again).
    let section = this.sections.find((s) => s.free && s.kind === codec.kind);
    if (!section) {
      section = { mid: String(this.sections.length), kind: codec.kind, track: undefined, mimeType: codec.mimeType, retired: { value: false }, offeredInactive: false, free: false };
      this.sections.push(section);
    }
    section.free = false;
    section.offeredInactive = false;
    const ssrc = randomInt(1, 2 ** 32 - 1);
    const track = this.setSection(section, codec.mimeType, 'SendOnly', ssrc);
    const retired = { value: false };
    section.retired = retired;
    section.mimeType = codec.mimeType;
    return { mid: section.mid, ...outgoingTrack(track, codec.kind, ssrc, codec, () => this.closed || retired.value) };
  }

  removeTrack(track: SubscriberTrack): void {
    const section = this.sections.find((s) => s.mid === track.mid);
    if (!section || section.track === undefined || this.closed) return;
    section.retired.value = true;
    section.track = undefined;
    this.setSection(section, section.mimeType, 'Inactive');
  }

  /** (Re)describes a section: libdatachannel's addTrack with a MID it has replaces that track's description. */
  private setSection(section: Section, mimeType: string, direction: 'SendOnly' | 'Inactive', ssrc?: number): NdcTrack {
    const codec = offeredCodec(mimeType);
    const media = codec.kind === 'video' ? new Video(section.mid, direction) : new Audio(section.mid, direction);
    if (media instanceof Video) {
      if (codec.mimeType === 'video/VP8') media.addVP8Codec(codec.payloadType);
      else media.addH264Codec(codec.payloadType);
    } else if (codec.mimeType === 'audio/opus') {
      media.addOpusCodec(codec.payloadType);
    } else {
      media.addAudioCodec(codec.payloadType, codec.mimeType.slice('audio/'.length), undefined);
    }
    if (ssrc !== undefined) media.addSSRC(ssrc, 'pinhole-sfu', `sfu-${this.id}-${ssrc}`, `${codec.kind}-${ssrc}`);
    const track = this.pc.addTrack(media);
    this.held.push(track);
    if (direction === 'SendOnly') section.track = track;
    return track;
  }

  async createOffer(): Promise<string> {
    if (this.closed) throw new SfuError('closed', 'subscriber transport closed');
    this.pc.setLocalDescription('offer');
    await waitUntil(() => this.closed || this.pc.gatheringState() === 'complete', 'ICE gathering');
    const sdp = this.pc.localDescription()?.sdp;
    if (this.closed || !sdp) throw new SfuError('closed', 'subscriber transport closed');
    // Why held back: a subscriber that could reach us before its answer is applied makes
    // libdatachannel connect ICE and run DTLS inside setRemoteDescription(answer), before
    // the answer's fingerprint is stored; the certificate check then fails and both ends
    // close (docs/architecture.md, Media server, "Early answers"). A renegotiation offer
    // repeats the candidates already given: only new ones (if any) follow its answer.
    const { sdp: offer, candidates } = holdBackCandidates(sdp);
    this.heldCandidates = candidates.filter((c) => !this.given.has(c.candidate));
    for (const s of this.sections) s.offeredInactive = s.track === undefined;
    return offer;
  }

  async acceptAnswer(answerSdp: string, onCandidates: (candidates: IceCandidate[]) => void): Promise<void> {
    if (this.closed) throw new SfuError('closed', 'subscriber transport closed');
    try {
      this.pc.setRemoteDescription(answerSdp, 'answer');
    } catch (err) {
      // The transport failed (ICE timeout, or closed) before the answer came, and
      // libdatachannel then refuses the answer's candidates: the transport's failure, not the answer's.
      if (this.closed || /without ICE transport/.test((err as Error).message)) {
        this.close();
        throw new SfuError('closed', `subscriber transport failed before its answer: ${(err as Error).message}`);
      }
      throw new SfuError('bad-sdp', `subscriber answer rejected: ${(err as Error).message}`);
    }
    const candidates = this.heldCandidates;
    this.heldCandidates = [];
    for (const c of candidates) this.given.add(c.candidate);
    if (!this.answered || candidates.length > 0) onCandidates(candidates);
    this.answered = true;
    for (const s of this.sections) if (s.offeredInactive) s.free = true;
    const active = this.sections.flatMap((s) => (s.track ? [s.track] : []));
    await waitUntil(() => this.closed || (this.connected && active.every((t) => t.isOpen())), 'subscriber connection');
    if (this.closed) throw new SfuError('closed', 'subscriber transport closed');
  }

  onClose(listener: Closer): void {
    this.closeListeners.push(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.held) t.close();
    this.pc.close();
    this.released();
    for (const l of this.closeListeners) l();
  }
}

export class DataChannelEngine implements SubscriberEngine, ViewerEngine {
  readonly name = 'node-datachannel';
  private readonly subscribers = new Set<DataChannelSubscriber>();
  private readonly viewers = new Set<DataChannelViewer>();

  constructor(private readonly options: DataChannelOptions = {}) {}

  createSubscriberTransport(): DataChannelSubscriber {
    const t: DataChannelSubscriber = new DataChannelSubscriber(this.options, () => this.subscribers.delete(t));
    this.subscribers.add(t);
    return t;
  }

  createViewerTransport(): DataChannelViewer {
    const t: DataChannelViewer = new DataChannelViewer(this.options, () => this.viewers.delete(t));
    this.viewers.add(t);
    return t;
  }

  subscriberCount(): number {
    return this.subscribers.size;
  }

  viewerCount(): number {
    return this.viewers.size;
  }

  close(): void {
    for (const t of [...this.subscribers, ...this.viewers]) t.close();
  }
}
