/**
 * node-datachannel engine (libdatachannel, C++): subscribers and viewers only. Its send path costs about a
 * fifth of werift's CPU per packet (bench/sfu/RESULTS.md), and the fan-out to subscribers is
 * what decides an SFU's capacity. It cannot receive a publisher: its answers refuse simulcast
 * and it drops packets of SSRCs the SDP did not announce. Here it only sends, on send-only
 * tracks whose SSRCs the SFU chooses, so rewritten packets fit.
 */
import { randomInt } from 'node:crypto';
import nodeDataChannel from 'node-datachannel';
import { SfuError, type IceCandidate, type OutgoingTrack, type SubscriberEngine, type SubscriberTransport, type ViewerEngine } from '../engine.js';
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

export class DataChannelSubscriber implements SubscriberTransport {
  readonly id = nextId('dsub');
  private readonly pc: InstanceType<typeof PeerConnection>;
  /** Held here: node-datachannel stops calling a track's callbacks once its JS object is collected. */
  private readonly tracks: NdcTrack[] = [];
  private readonly closeListeners: Closer[] = [];
  private closed = false;
  private connected = false;
  /** The offer's candidates, held back until the answer is applied (engine.ts). */
  private heldCandidates: IceCandidate[] = [];

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

  addTrack(mimeType: string): OutgoingTrack {
    if (this.closed) throw new SfuError('closed', 'subscriber transport closed');
    const codec = offeredCodec(mimeType);
    const mid = String(this.tracks.length);
    const media = codec.kind === 'video' ? new Video(mid, 'SendOnly') : new Audio(mid, 'SendOnly');
    if (media instanceof Video) {
      if (codec.mimeType === 'video/VP8') media.addVP8Codec(codec.payloadType);
      else media.addH264Codec(codec.payloadType);
    } else if (codec.mimeType === 'audio/opus') {
      media.addOpusCodec(codec.payloadType);
    } else {
      media.addAudioCodec(codec.payloadType, codec.mimeType.slice('audio/'.length), undefined);
    }
    const ssrc = randomInt(1, 2 ** 32 - 1);
    media.addSSRC(ssrc, 'pinhole-sfu', `sfu-${this.id}`, `${codec.kind}-${mid}`);
    const track = this.pc.addTrack(media);
    this.tracks.push(track);
    return outgoingTrack(track, codec.kind, ssrc, codec, () => this.closed);
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
    // close (docs/architecture.md, Media server, "Early answers").
    const { sdp: offer, candidates } = holdBackCandidates(sdp);
    this.heldCandidates = candidates;
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
    onCandidates(candidates);
    await waitUntil(() => this.closed || (this.connected && this.tracks.every((t) => t.isOpen())), 'subscriber connection');
    if (this.closed) throw new SfuError('closed', 'subscriber transport closed');
  }

  onClose(listener: Closer): void {
    this.closeListeners.push(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.tracks) t.close();
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
