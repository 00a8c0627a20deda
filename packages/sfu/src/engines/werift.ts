/**
 * werift engine (pure TypeScript, SRTP through node:crypto): receives publishers, Chromium's
 * three-layer simulcast included (RID header extension, RFC 8852), and can send to subscribers
 * too — about 5× the CPU per sent packet of node-datachannel (bench/sfu/RESULTS.md), so the
 * default engine uses it for publishers only.
 */
import {
  MediaStreamTrack,
  RTCPeerConnection,
  useAudioLevelIndication,
  useH264,
  useOPUS,
  usePCMU,
  useRepairedRtpStreamId,
  useSdesMid,
  useSdesRTPStreamId,
  useVP8,
  type RTCRtpTransceiver,
} from 'werift';
import {
  SfuError,
  type IncomingStream,
  type MediaKind,
  type OutgoingTrack,
  type PublisherEngine,
  type SubscriberEngine,
  type PublisherTransport,
  type SubscriberTransport,
  type IceCandidate,
  type ViewerEngine,
} from '../engine.js';
import { holdBackCandidates } from '../sdp.js';
import { asksKeyframe, nextId, offeredCodec, waitUntil } from './common.js';
import { guardWeriftRtpParser } from './werift-guard.js';
import { rembBitrate, sendRemb } from './werift-remb.js';
import type { Remb } from '../remb.js';

guardWeriftRtpParser();
import { WeriftViewer } from './werift-viewer.js';
import { WERIFT_CODECS, baseConfig, codecOf, completeLocal, watchClose, type WeriftOptions } from './werift-common.js';

export type { WeriftOptions } from './werift-common.js';

type Closer = () => void;

export class WeriftPublisher implements PublisherTransport {
  readonly id = nextId('wpub');
  private readonly pc: RTCPeerConnection;
  private readonly streamListeners: ((s: IncomingStream) => void)[] = [];
  private readonly closeListeners: Closer[] = [];
  private closed = false;

  constructor(options: WeriftOptions, private readonly released: Closer) {
    this.pc = new RTCPeerConnection({
      ...baseConfig(options),
      // No transport-cc: werift's TWCC feedback, timed in a busy JS event loop, made Chromium's
      // delay-based estimate fall (300 → 30 kbit/s in the E2E test), leaving only the lowest layer.
      // The SFU's congestion feedback is REMB instead (sendBitrateEstimate; receive-estimator.ts).
      codecs: { video: [useVP8(), useH264()], audio: [useOPUS(), usePCMU()] },
      headerExtensions: {
        video: [useSdesMid(), useSdesRTPStreamId(), useRepairedRtpStreamId()],
        // RFC 6464 audio levels: the room's active speaker (speaker.ts).
        audio: [useSdesMid(), useAudioLevelIndication()],
      },
    });
    // werift's pc.onTrack fires once per media section, with its first layer only; the other
    // simulcast layers (one track per RID) are on the receiver and in the transceiver's onTrack.
    const announced = new Set<MediaStreamTrack>();
    const announce = (track: MediaStreamTrack, transceiver: RTCRtpTransceiver): void => {
      if (announced.has(track)) return;
      announced.add(track);
      this.announce(track, transceiver);
    };
    this.pc.onTrack.subscribe((first) => {
      const transceiver = this.pc.getTransceivers().find((t) => t.receiver.tracks.includes(first) || t.receiver.track === first);
      if (!transceiver) return;
      const tracks = transceiver.receiver.tracks.length > 0 ? transceiver.receiver.tracks : [first];
      for (const track of tracks) announce(track, transceiver);
      transceiver.onTrack.subscribe((track) => announce(track, transceiver));
    });
    watchClose(this.pc, () => this.close());
  }

  private announce(track: MediaStreamTrack, transceiver: RTCRtpTransceiver): void {
    const codec = track.codec ?? transceiver.codecs[0];
    if (!codec) return;
    const receiver = transceiver.receiver;
    // werift leaves track.ssrc unset for a simulcast layer: take it from the layer's packets.
    let ssrc = track.ssrc ?? 0;
    const stream: IncomingStream = {
      mid: transceiver.mid ?? '',
      kind: track.kind as MediaKind,
      rid: track.rid,
      get ssrc() {
        return ssrc;
      },
      codec: codecOf(codec),
      onRtp: (listener) => {
        track.onReceiveRtp.subscribe((rtp) => {
          ssrc = rtp.header.ssrc;
          listener(rtp.serialize());
        });
      },
      requestKeyframe: () => {
        if (!this.closed && ssrc !== 0) receiver.sendRtcpPLI(ssrc).catch(() => undefined);
      },
    };
    for (const l of this.streamListeners) l(stream);
  }

  async answer(offerSdp: string): Promise<string> {
    if (this.closed) throw new SfuError('closed', 'publisher transport closed');
    try {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    } catch (err) {
      throw new SfuError('bad-sdp', `publisher offer rejected: ${(err as Error).message}`);
    }
    if (!this.pc.getTransceivers().some((t) => t.kind === 'video' || t.kind === 'audio')) {
      throw new SfuError('bad-sdp', 'publisher offer has no audio or video');
    }
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return completeLocal(this.pc);
  }

  async addRemoteCandidate({ candidate, sdpMid }: { candidate: string; sdpMid?: string }): Promise<void> {
    if (this.closed) throw new SfuError('closed', 'publisher transport closed');
    try {
      // BUNDLE: every candidate is the first section's transport's.
      await this.pc.addIceCandidate({ candidate, sdpMid: sdpMid ?? this.pc.getTransceivers()[0]?.mid ?? '0' });
    } catch (err) {
      throw new SfuError('bad-request', `candidate refused: ${(err as Error).message}`);
    }
  }

  sendBitrateEstimate(remb: Remb): void {
    if (!this.closed) sendRemb(this.pc, remb);
  }

  onStream(listener: (stream: IncomingStream) => void): void {
    this.streamListeners.push(listener);
  }

  onClose(listener: Closer): void {
    this.closeListeners.push(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.pc.close();
    this.released();
    for (const l of this.closeListeners) l();
  }
}

export class WeriftSubscriber implements SubscriberTransport {
  readonly id = nextId('wsub');
  private readonly pc: RTCPeerConnection;
  private readonly closeListeners: Closer[] = [];
  private closed = false;
  /** The offer's candidates, held back until the answer is applied (engine.ts). */
  private heldCandidates: IceCandidate[] = [];

  constructor(options: WeriftOptions, private readonly released: Closer) {
    this.pc = new RTCPeerConnection({
      ...baseConfig(options),
      codecs: { video: [useVP8(), useH264()], audio: [useOPUS(), usePCMU()] },
      headerExtensions: { video: [useSdesMid()], audio: [useSdesMid()] },
    });
    watchClose(this.pc, () => this.close());
  }

  addTrack(mimeType: string): OutgoingTrack {
    const offered = offeredCodec(mimeType);
    const track = new MediaStreamTrack({ kind: offered.kind });
    const transceiver = this.pc.addTransceiver(track, { direction: 'sendonly' });
    // Offer exactly the publisher's codec: the SFU forwards, it does not transcode.
    transceiver.codecs = [WERIFT_CODECS[offered.mimeType.toLowerCase()]!({ payloadType: offered.payloadType })];
    const keyframeListeners: Closer[] = [];
    const estimateListeners: ((bitrate: number) => void)[] = [];
    transceiver.sender.onRtcp.subscribe((packet) => {
      if (asksKeyframe([packet])) for (const l of keyframeListeners) l();
      const bitrate = rembBitrate([packet]);
      if (bitrate !== undefined) for (const l of estimateListeners) l(bitrate);
    });
    const sender = transceiver.sender;
    return {
      kind: offered.kind,
      get ssrc() {
        return sender.ssrc;
      },
      get codec() {
        const c = sender.codec;
        return c ? codecOf(c) : { mimeType: offered.mimeType, payloadType: offered.payloadType, clockRate: offered.clockRate };
      },
      send: (packet) => {
        if (!this.closed) track.writeRtp(packet);
      },
      onKeyframeRequest: (listener) => keyframeListeners.push(listener),
      onBitrateEstimate: (listener) => estimateListeners.push(listener),
    };
  }

  async createOffer(): Promise<string> {
    if (this.closed) throw new SfuError('closed', 'subscriber transport closed');
    await this.pc.setLocalDescription(await this.pc.createOffer());
    // werift stores the answer before it starts ICE, but the seam is one for all engines.
    const { sdp, candidates } = holdBackCandidates(await completeLocal(this.pc));
    this.heldCandidates = candidates;
    return sdp;
  }

  async acceptAnswer(answerSdp: string, onCandidates: (candidates: IceCandidate[]) => void): Promise<void> {
    try {
      await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
    } catch (err) {
      throw new SfuError('bad-sdp', `subscriber answer rejected: ${(err as Error).message}`);
    }
    const candidates = this.heldCandidates;
    this.heldCandidates = [];
    onCandidates(candidates);
    await waitUntil(() => this.pc.connectionState === 'connected' || this.closed, 'subscriber connection');
    if (this.closed) throw new SfuError('closed', 'subscriber transport closed');
  }

  onClose(listener: Closer): void {
    this.closeListeners.push(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.pc.close();
    this.released();
    for (const l of this.closeListeners) l();
  }
}

/** werift for every direction, or for any of them in combineEngines. */
export class WeriftEngine implements PublisherEngine, SubscriberEngine, ViewerEngine {
  readonly name = 'werift';
  private readonly publishers = new Set<WeriftPublisher>();
  private readonly subscribers = new Set<WeriftSubscriber>();
  private readonly viewers = new Set<WeriftViewer>();

  constructor(private readonly options: WeriftOptions = {}) {}

  createPublisherTransport(): WeriftPublisher {
    const t: WeriftPublisher = new WeriftPublisher(this.options, () => this.publishers.delete(t));
    this.publishers.add(t);
    return t;
  }

  createSubscriberTransport(): WeriftSubscriber {
    const t: WeriftSubscriber = new WeriftSubscriber(this.options, () => this.subscribers.delete(t));
    this.subscribers.add(t);
    return t;
  }

  createViewerTransport(): WeriftViewer {
    const t: WeriftViewer = new WeriftViewer(this.options, () => this.viewers.delete(t));
    this.viewers.add(t);
    return t;
  }

  publisherCount(): number {
    return this.publishers.size;
  }

  subscriberCount(): number {
    return this.subscribers.size;
  }

  viewerCount(): number {
    return this.viewers.size;
  }

  close(): void {
    for (const t of [...this.publishers, ...this.subscribers, ...this.viewers]) t.close();
  }
}
