/**
 * node-datachannel as the answering side for viewers (WHEP players offer recvonly sections):
 * before the offer is applied, a send-only track is built on each matched section's MID with
 * the viewer's payload type and an SSRC the SFU chooses, and an inactive one on every other
 * section; libdatachannel then answers with those tracks' descriptions (one codec, the SSRC)
 * instead of reciprocating the offer. Sending is the same native path as DataChannelSubscriber.
 */
import { randomInt } from 'node:crypto';
import nodeDataChannel from 'node-datachannel';
import { SfuError, type OutgoingTrack, type ViewerTransport, type WantedTrack } from '../engine.js';
import { assignSections, describeViewerOffer, type SectionCodec, type ViewerSection } from '../sdp.js';
import { nextId, waitUntil } from './common.js';
import { outgoingTrack } from './datachannel-track.js';

const { Audio, PeerConnection, Video } = nodeDataChannel;

type Closer = () => void;
type NdcTrack = ReturnType<InstanceType<typeof PeerConnection>['addTrack']>;
type Direction = 'SendOnly' | 'Inactive';

/** A libdatachannel media description for `section` carrying `codec` only. */
function mediaFor(section: ViewerSection, codec: SectionCodec, direction: Direction): InstanceType<typeof Video> | InstanceType<typeof Audio> {
  const name = codec.mimeType.split('/')[1]!;
  // node-datachannel refuses an undefined profile argument: pass fmtp only when there is one.
  const fmtp = codec.parameters ? [codec.parameters] : [];
  if (section.kind === 'video') {
    const video = new Video(section.mid, direction);
    if (name.toLowerCase() === 'vp8') video.addVP8Codec(codec.payloadType);
    else if (name.toLowerCase() === 'h264') video.addH264Codec(codec.payloadType, ...fmtp);
    else video.addVideoCodec(codec.payloadType, name, ...fmtp);
    return video;
  }
  const audio = new Audio(section.mid, direction);
  if (name.toLowerCase() === 'opus') audio.addOpusCodec(codec.payloadType, ...fmtp);
  else audio.addAudioCodec(codec.payloadType, name, ...fmtp);
  return audio;
}

export interface DataChannelViewerOptions {
  portRange?: [number, number];
}

export class DataChannelViewer implements ViewerTransport {
  readonly id = nextId('dview');
  private readonly pc: InstanceType<typeof PeerConnection>;
  /** Held here: node-datachannel stops calling a track's callbacks once its JS object is collected. */
  private readonly tracks: NdcTrack[] = [];
  private readonly sending: NdcTrack[] = [];
  private readonly closeListeners: Closer[] = [];
  private closed = false;
  private isConnected = false;

  constructor(options: DataChannelViewerOptions, private readonly released: Closer) {
    this.pc = new PeerConnection(this.id, {
      iceServers: [],
      disableAutoNegotiation: true,
      ...(options.portRange ? { portRangeBegin: options.portRange[0], portRangeEnd: options.portRange[1] } : {}),
    });
    this.pc.onStateChange((state) => {
      if (state === 'connected') this.isConnected = true;
      // libdatachannel calls back on its own thread's schedule; closing from inside the callback is deferred.
      if (state === 'failed' || state === 'closed') setImmediate(() => this.close());
    });
  }

  async acceptOffer(offerSdp: string, wanted: readonly WantedTrack[]): Promise<(OutgoingTrack | undefined)[]> {
    if (this.closed) throw new SfuError('closed', 'viewer transport closed');
    const sections = describeViewerOffer(offerSdp);
    const assigned = assignSections(sections, wanted);
    const outgoing = new Map<number, OutgoingTrack>();
    assigned.forEach((a, i) => {
      if (a) outgoing.set(a.section, this.addSending(sections[a.section]!, a.codec, wanted[i]!));
    });
    sections.forEach((section, i) => {
      if (outgoing.has(i)) return;
      const codec = section.codecs[0] ?? { mimeType: `${section.kind}/none`, payloadType: 96, clockRate: 90000 };
      this.tracks.push(this.pc.addTrack(mediaFor(section, codec, 'Inactive')));
    });
    try {
      // Without the offer's candidates, like an ICE-lite server: connectivity checks start from
      // the viewer, once it has the answer. Checks from here that reach a libdatachannel
      // offerer before its answer close it ("Got a remote candidate without ICE transport" when
      // the answer comes: about one viewer in eight under load in whep-http.test.ts, none
      // after this). Candidates the viewer trickles later (PATCH) are still added.
      this.pc.setRemoteDescription(offerSdp.replace(/^a=candidate:.*\r?\n/gm, '').replace(/^a=end-of-candidates\r?\n/gm, ''), 'offer');
    } catch (err) {
      throw new SfuError('bad-sdp', `viewer offer rejected: ${(err as Error).message}`);
    }
    return assigned.map((a) => (a ? outgoing.get(a.section) : undefined));
  }

  private addSending(section: ViewerSection, codec: SectionCodec, wanted: WantedTrack): OutgoingTrack {
    const ssrc = randomInt(1, 2 ** 32 - 1);
    const media = mediaFor(section, codec, 'SendOnly');
    media.addSSRC(ssrc, 'pinhole-sfu', `sfu-${this.id}`, `${wanted.kind}-${section.mid}`);
    const track = this.pc.addTrack(media);
    this.tracks.push(track);
    this.sending.push(track);
    return outgoingTrack(track, wanted.kind, ssrc, codec, () => this.closed);
  }

  async createAnswer(): Promise<string> {
    if (this.closed) throw new SfuError('closed', 'viewer transport closed');
    this.pc.setLocalDescription('answer');
    await waitUntil(() => this.closed || this.pc.gatheringState() === 'complete', 'ICE gathering');
    const sdp = this.pc.localDescription()?.sdp;
    if (this.closed || !sdp) throw new SfuError('closed', 'viewer transport closed');
    return sdp;
  }

  async addRemoteCandidate({ candidate, sdpMid }: { candidate: string; sdpMid?: string }): Promise<void> {
    if (this.closed) throw new SfuError('closed', 'viewer transport closed');
    try {
      this.pc.addRemoteCandidate(candidate, sdpMid ?? this.pc.localDescription()?.sdp.match(/a=mid:(\S+)/)?.[1] ?? '0');
    } catch (err) {
      throw new SfuError('bad-request', `candidate refused: ${(err as Error).message}`);
    }
  }

  async connected(): Promise<void> {
    await waitUntil(() => this.closed || (this.isConnected && this.sending.every((t) => t.isOpen())), 'viewer connection');
    if (this.closed) throw new SfuError('closed', 'viewer transport closed');
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
