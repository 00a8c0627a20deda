/**
 * werift as the answering side for viewers (WHEP players offer recvonly audio and video):
 * werift negotiates each section against the viewer's own payload types, so narrowing a
 * section to the publisher's codec leaves its sender writing the viewer's payload type and
 * the SSRC its answer announces (RTCRtpSender.sendRtp rewrites both on every packet).
 * docs/architecture.md ("Media server") says why werift and not node-datachannel here.
 */
import { RTCPeerConnection, type RTCRtpCodecParameters, type RTCRtpTransceiver, useSdesMid } from 'werift';
import { SfuError, type OutgoingTrack, type ViewerTransport, type WantedTrack } from '../engine.js';
import { assignSections } from '../sdp.js';
import { asksKeyframe, nackedSequenceNumbers, nextId, waitUntil } from './common.js';
import { rembBitrate } from './werift-remb.js';
import { baseConfig, codecOf, completeLocal, forwardedCodecs, watchClose, type WeriftOptions } from './werift-common.js';

type Closer = () => void;

export class WeriftViewer implements ViewerTransport {
  readonly id = nextId('wview');
  private readonly pc: RTCPeerConnection;
  private readonly closeListeners: Closer[] = [];
  private closed = false;

  constructor(options: WeriftOptions, private readonly released: Closer) {
    this.pc = new RTCPeerConnection({
      ...baseConfig(options),
      codecs: forwardedCodecs(),
      headerExtensions: { video: [useSdesMid()], audio: [useSdesMid()] },
    });
    watchClose(this.pc, () => this.close());
  }

  async acceptOffer(offerSdp: string, wanted: readonly WantedTrack[]): Promise<(OutgoingTrack | undefined)[]> {
    if (this.closed) throw new SfuError('closed', 'viewer transport closed');
    try {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    } catch (err) {
      const message = (err as Error).message;
      // werift refuses a section none of whose codecs it knows ("negotiate codecs failed").
      if (/codec/i.test(message)) throw new SfuError('unsupported-codec', `viewer offer: ${message} (the SFU forwards VP8, H264, opus, PCMU, PCMA)`);
      throw new SfuError('bad-sdp', `viewer offer rejected: ${message}`);
    }
    const sections = this.pc.getTransceivers().filter((t) => t.kind === 'audio' || t.kind === 'video');
    if (sections.length === 0) throw new SfuError('bad-sdp', 'viewer offer has no audio or video section');
    // werift made one transceiver per offered section, in order, with the codecs it shares with the offer.
    const receives = (t: RTCRtpTransceiver): boolean => t.offerDirection === 'sendonly' || t.offerDirection === 'sendrecv';
    const assigned = assignSections(
      sections.map((t) => ({ kind: t.kind, receives: receives(t), codecs: t.codecs })),
      wanted,
    );
    const tracks = assigned.map((a, i) => (a ? this.send(sections[a.section]!, a.codec, wanted[i]!) : undefined));
    const used = new Set(assigned.map((a) => a?.section));
    sections.forEach((t, i) => {
      if (!used.has(i)) t.setDirection('inactive');
    });
    return tracks;
  }

  private send(transceiver: RTCRtpTransceiver, codec: RTCRtpCodecParameters, wanted: WantedTrack): OutgoingTrack {
    // Only the publisher's codec in the answer, and the sender writes its payload type.
    transceiver.codecs = [codec];
    transceiver.setDirection('sendonly');
    const sender = transceiver.sender;
    sender.codec = codec;
    const keyframeListeners: Closer[] = [];
    const estimateListeners: ((bitrate: number) => void)[] = [];
    const nackListeners: ((requested: number, resent: number) => void)[] = [];
    // werift's sender resends NACKed packets itself from its own history (RTP_HISTORY_SIZE,
    // 128) before it calls onRtcp: what it resent is the growth of its counter (private in its
    // typings; getStats reports it as retransmittedPacketsSent, but asynchronously).
    const counted = sender as unknown as { retransmittedPacketsSent: number };
    let retransmitted = 0;
    sender.onRtcp.subscribe((packet) => {
      if (asksKeyframe([packet])) for (const l of keyframeListeners) l();
      const bitrate = rembBitrate([packet]);
      if (bitrate !== undefined) for (const l of estimateListeners) l(bitrate);
      // werift's parse: its GenericNack may list more than the NACK asked (src/nack.ts).
      const lost = nackedSequenceNumbers([packet], sender.ssrc);
      if (lost.length > 0) {
        const resent = counted.retransmittedPacketsSent - retransmitted;
        retransmitted = counted.retransmittedPacketsSent;
        for (const l of nackListeners) l(lost.length, resent);
      }
    });
    return {
      kind: wanted.kind,
      ssrc: sender.ssrc,
      codec: codecOf(codec),
      send: (packet) => {
        if (!this.closed) sender.sendRtp(packet).catch(() => undefined);
      },
      onKeyframeRequest: (listener) => keyframeListeners.push(listener),
      onBitrateEstimate: (listener) => estimateListeners.push(listener),
      onNack: (listener) => nackListeners.push(listener),
    };
  }

  async createAnswer(): Promise<string> {
    if (this.closed) throw new SfuError('closed', 'viewer transport closed');
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return completeLocal(this.pc);
  }

  async addRemoteCandidate({ candidate, sdpMid }: { candidate: string; sdpMid?: string }): Promise<void> {
    if (this.closed) throw new SfuError('closed', 'viewer transport closed');
    try {
      await this.pc.addIceCandidate({ candidate, sdpMid: sdpMid ?? this.pc.getTransceivers()[0]?.mid ?? '0' });
    } catch (err) {
      throw new SfuError('bad-request', `candidate refused: ${(err as Error).message}`);
    }
  }

  async connected(): Promise<void> {
    await waitUntil(() => this.pc.connectionState === 'connected' || this.closed, 'viewer connection');
    if (this.closed) throw new SfuError('closed', 'viewer transport closed');
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
