/**
 * werift engine (pure TypeScript, SRTP through node:crypto): receives publishers, Chromium's
 * three-layer simulcast included (RID header extension, RFC 8852), and answers viewers (WHEP)
 * — at about 5× the CPU per sent packet of node-datachannel (bench/sfu/RESULTS.md), so the
 * default engine uses it for publishers only. A publisher's later offer renegotiates its
 * transport (tracks added or removed).
 */
import {
  RTCPeerConnection,
  useAudioLevelIndication,
  useH264,
  useOPUS,
  usePCMU,
  useRepairedRtpStreamId,
  useSdesMid,
  useSdesRTPStreamId,
  useVP8,
  type MediaStreamTrack,
  type RTCRtpTransceiver,
} from 'werift';
import {
  SfuError,
  type IncomingStream,
  type MediaKind,
  type PublisherEngine,
  type PublisherTransport,
  type ViewerEngine,
} from '../engine.js';
import { acceptBundleOnly, oneBundleTransport, rejectStoppedSections } from '../sdp.js';
import { nextId } from './common.js';
import { guardWeriftRtpParser } from './werift-guard.js';
import { sendRemb } from './werift-remb.js';
import type { Remb } from '../remb.js';

guardWeriftRtpParser();
import { WeriftViewer } from './werift-viewer.js';
import { baseConfig, codecOf, completeLocal, watchClose, type WeriftOptions } from './werift-common.js';

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
    // Bundle-only sections (port 0) are live, not stopped: normalized once for werift and for rejectStoppedSections.
    const offer = acceptBundleOnly(oneBundleTransport(offerSdp));
    try {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: offer });
    } catch (err) {
      throw new SfuError('bad-sdp', `publisher offer rejected: ${(err as Error).message}`);
    }
    if (!this.pc.getTransceivers().some((t) => t.kind === 'video' || t.kind === 'audio')) {
      throw new SfuError('bad-sdp', 'publisher offer has no audio or video');
    }
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return rejectStoppedSections(offer, await completeLocal(this.pc));
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

/**
 * werift for publishers and viewers, in combineEngines. Its subscriber side was dropped with
 * renegotiated subscriber sessions: node-datachannel is the only subscriber engine in use.
 */
export class WeriftEngine implements PublisherEngine, ViewerEngine {
  readonly name = 'werift';
  private readonly publishers = new Set<WeriftPublisher>();
  private readonly viewers = new Set<WeriftViewer>();

  constructor(private readonly options: WeriftOptions = {}) {}

  createPublisherTransport(): WeriftPublisher {
    const t: WeriftPublisher = new WeriftPublisher(this.options, () => this.publishers.delete(t));
    this.publishers.add(t);
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

  viewerCount(): number {
    return this.viewers.size;
  }

  close(): void {
    for (const t of [...this.publishers, ...this.viewers]) t.close();
  }
}
