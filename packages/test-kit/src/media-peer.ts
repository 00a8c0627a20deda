/**
 * node-datachannel peers on the other end of an engine's transports (the conformance suite's
 * stand-ins for browsers): they answer an SFU offer and count what arrives, or publish one
 * send-only VP8 track. Their SDP is complete (candidates gathered first); the SFU's
 * candidates come to an answering peer after its answer, as the seam hands them out.
 */
import nodeDataChannel from 'node-datachannel';
import type { IceCandidate } from '@pinhole/sfu';
import { until } from './wait.js';

const { Audio, PeerConnection, RtcpReceivingSession, Video } = nodeDataChannel;
type Pc = InstanceType<typeof PeerConnection>;
type Track = ReturnType<Pc['addTrack']>;

async function complete(pc: Pc): Promise<string> {
  await until(() => pc.gatheringState() === 'complete', 15_000, 'client ICE gathering');
  return pc.localDescription()!.sdp;
}

export interface ReceivingPeer {
  answer: string;
  /** RTP packets received, by SSRC. */
  received: Map<number, number>;
  /** RTP bytes received (whole packets), by SSRC. */
  bytes: Map<number, number>;
  /** Sends a REMB (draft-alvestrand-rmcat-remb) of `bitrate` bit/s on every received track: the receiver's bandwidth estimate. */
  sendRemb(bitrate: number): void;
  /** Adds the SFU's candidates (acceptAnswer's onCandidates). */
  addCandidates(candidates: IceCandidate[]): void;
  /** Sends a PLI for every received track (the subscriber lost its picture). */
  requestKeyframes(): void;
  close(): void;
}

export async function answeringPeer(offer: string): Promise<ReceivingPeer> {
  const pc = new PeerConnection('client', { iceServers: [] });
  const tracks: Track[] = []; // held: callbacks stop once a Track object is collected
  const received = new Map<number, number>();
  const bytes = new Map<number, number>();
  pc.onTrack((track) => {
    tracks.push(track);
    track.setMediaHandler(new RtcpReceivingSession());
    track.onMessage((msg) => {
      if (msg.length < 12 || (msg[1]! >= 192 && msg[1]! <= 223)) return;
      const ssrc = msg.readUInt32BE(8);
      received.set(ssrc, (received.get(ssrc) ?? 0) + 1);
      bytes.set(ssrc, (bytes.get(ssrc) ?? 0) + msg.length);
    });
  });
  pc.setRemoteDescription(offer, 'offer');
  const answer = await complete(pc);
  return {
    answer,
    received,
    bytes,
    // libdatachannel's RTCP session writes it, from the SSRC it receives (so the SFU routes it to that track).
    sendRemb: (bitrate) => tracks.forEach((t) => t.requestBitrate(bitrate)),
    addCandidates: (candidates) => {
      for (const c of candidates) pc.addRemoteCandidate(c.candidate, c.sdpMid);
    },
    requestKeyframes: () => tracks.forEach((t) => t.requestKeyframe()),
    close: () => pc.close(),
  };
}

export interface PublishingPeer {
  offer: string;
  ssrc: number;
  accept(answer: string): Promise<void>;
  send(packet: Buffer): void;
  /** RTCP messages received on the track (PLI from the SFU among them). */
  rtcp: Buffer[];
  close(): void;
}

/** RFC 6464 audio levels in an audio publisher's packets: this header extension id. */
export const AUDIO_LEVEL_EXT_ID = 1;

/**
 * A publisher of one send-only track: VP8 video (payload type 96), or with `audio` Opus (111)
 * announcing RFC 6464 audio levels as header extension AUDIO_LEVEL_EXT_ID. It sends the RTP the
 * test crafts (rtp() from ./rtp.js).
 */
export async function publishingPeer(ssrc = 0x1234_5678, { audio = false }: { audio?: boolean } = {}): Promise<PublishingPeer> {
  const pc = new PeerConnection('publisher', { iceServers: [], disableAutoNegotiation: true });
  let media: InstanceType<typeof Video> | InstanceType<typeof Audio>;
  if (audio) {
    const a = (media = new Audio('a0', 'SendOnly'));
    a.addOpusCodec(111);
    a.parseSdpLine(`a=extmap:${AUDIO_LEVEL_EXT_ID} urn:ietf:params:rtp-hdrext:ssrc-audio-level`);
  } else {
    const v = (media = new Video('v0', 'SendOnly'));
    v.addVP8Codec(96);
  }
  media.addSSRC(ssrc, 'client', 'stream', audio ? 'audio' : 'video');
  const track = pc.addTrack(media);
  const rtcp: Buffer[] = [];
  track.onMessage((msg) => rtcp.push(msg));
  let open = false;
  track.onOpen(() => (open = true));
  pc.setLocalDescription('offer');
  const offer = await complete(pc);
  return {
    offer,
    ssrc,
    rtcp,
    accept: async (answer) => {
      pc.setRemoteDescription(answer, 'answer');
      await until(() => open, 15_000, 'publisher track open');
    },
    send: (packet) => {
      track.sendMessageBinary(packet);
    },
    close: () => {
      track.close();
      pc.close();
    },
  };
}

export interface ViewingPeer {
  /** The recvonly offer, with payload types of the viewer's choosing (not the SFU's defaults). */
  offer: string;
  /** RTP packets received, by SSRC. */
  received: Map<number, number>;
  /** Payload types seen, by SSRC. */
  payloadTypes: Map<number, Set<number>>;
  accept(answer: string): void;
  /** Sends a PLI on every track (the viewer lost its picture). */
  requestKeyframes(): void;
  close(): void;
}

/** A WHEP-style player: it offers recvonly VP8 video (payload type `videoPt`) and Opus audio (`audioPt`). */
export async function viewingPeer(videoPt = 100, audioPt = 109): Promise<ViewingPeer> {
  const { Audio } = nodeDataChannel;
  const pc = new PeerConnection('viewer', { iceServers: [], disableAutoNegotiation: true });
  const video = new Video('0', 'RecvOnly');
  video.addVP8Codec(videoPt);
  const audio = new Audio('1', 'RecvOnly');
  audio.addOpusCodec(audioPt);
  const received = new Map<number, number>();
  const payloadTypes = new Map<number, Set<number>>();
  const tracks = [pc.addTrack(video), pc.addTrack(audio)];
  for (const track of tracks) {
    track.setMediaHandler(new RtcpReceivingSession());
    track.onMessage((msg) => {
      if (msg.length < 12 || (msg[1]! >= 192 && msg[1]! <= 223)) return;
      const ssrc = msg.readUInt32BE(8);
      received.set(ssrc, (received.get(ssrc) ?? 0) + 1);
      const pts = payloadTypes.get(ssrc) ?? new Set<number>();
      pts.add(msg[1]! & 0x7f);
      payloadTypes.set(ssrc, pts);
    });
  }
  pc.setLocalDescription('offer');
  const offer = await complete(pc);
  return {
    offer,
    received,
    payloadTypes,
    accept: (answer) => pc.setRemoteDescription(answer, 'answer'),
    requestKeyframes: () => tracks.forEach((t) => t.requestKeyframe()),
    close: () => {
      for (const t of tracks) t.close();
      pc.close();
    },
  };
}

export interface SessionPeer {
  /** Answers one offer of the SFU's subscriber session (the first or a renegotiation), recvonly, candidates inside. */
  answer(offer: string): Promise<string>;
  /** RTP packets received, by SSRC. */
  received: Map<number, number>;
  /** RTP bytes received (whole packets), by SSRC. */
  bytes: Map<number, number>;
  /** Sends a REMB (draft-alvestrand-rmcat-remb) of `bitrate` bit/s on every track received so far: the estimate of the whole connection. */
  sendRemb(bitrate: number): void;
  /** Adds the SFU's candidates (`pinhole:sfu-candidates`). */
  addCandidates(candidates: IceCandidate[]): void;
  /** Sends a PLI on every track received so far. */
  requestKeyframes(): void;
  close(): void;
}

/** One peer connection answering every offer of an SFU subscriber session, as a client's subscriber connection does. */
export function sessionPeer(): SessionPeer {
  const pc = new PeerConnection('session', { iceServers: [], disableAutoNegotiation: true });
  const tracks: Track[] = []; // held: callbacks stop once a Track object is collected
  const received = new Map<number, number>();
  const bytes = new Map<number, number>();
  pc.onTrack((track) => {
    tracks.push(track);
    track.setMediaHandler(new RtcpReceivingSession());
    track.onMessage((msg) => {
      if (msg.length < 12 || (msg[1]! >= 192 && msg[1]! <= 223)) return;
      const ssrc = msg.readUInt32BE(8);
      received.set(ssrc, (received.get(ssrc) ?? 0) + 1);
      bytes.set(ssrc, (bytes.get(ssrc) ?? 0) + msg.length);
    });
  });
  return {
    received,
    bytes,
    // libdatachannel's RTCP session writes it, from the SSRC it receives (so the SFU routes it to that track).
    sendRemb: (bitrate) => tracks.forEach((t) => t.requestBitrate(bitrate)),
    answer: async (offer) => {
      pc.setRemoteDescription(offer, 'offer');
      pc.setLocalDescription('answer');
      return complete(pc);
    },
    addCandidates: (candidates) => {
      for (const c of candidates) pc.addRemoteCandidate(c.candidate, c.sdpMid);
    },
    requestKeyframes: () => tracks.forEach((t) => t.requestKeyframe()),
    close: () => pc.close(),
  };
}

/** The SSRC an SDP announces in the media section with MID `mid` (an SFU offer's `a=ssrc`), if any. */
export function ssrcOfSection(sdp: string, mid: string): number | undefined {
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    if (new RegExp(`\\r?\\na=mid:${mid}\\r?\\n`).test(section + '\r\n')) {
      const m = /a=ssrc:(\d+) /.exec(section);
      return m ? Number(m[1]) : undefined;
    }
  }
  return undefined;
}

/** The part of the SFU's Room a subscribing member drives (structural: test-kit does not depend on @pinhole/sfu at run time). */
export interface SessionRoom {
  subscribe(
    peer: string,
    publisher: string,
    signals: { offer(o: { sdp: string }): void; candidates(c: IceCandidate[]): void; closed(): void },
    options?: { layer?: string },
  ): Promise<void>;
  acceptAnswer(peer: string, answerSdp: string): Promise<void>;
}

/** `name` subscribes to `publisher` in `room`; a sessionPeer answers each of the session's offers as it comes. */
export async function subscribeSession(room: SessionRoom, name: string, publisher: string, options: { layer?: string } = {}): Promise<SessionPeer> {
  const peer = sessionPeer();
  let chain = Promise.resolve();
  await room.subscribe(
    name,
    publisher,
    {
      offer: ({ sdp }) => {
        chain = chain.then(async () => room.acceptAnswer(name, await peer.answer(sdp))).catch(() => undefined);
      },
      candidates: (c) => peer.addCandidates(c),
      closed: () => undefined,
    },
    options,
  );
  return peer;
}

export interface SimulcastPeer {
  offer: string;
  accept(answer: string): Promise<void>;
  /** Sends one VP8 keyframe-start packet of layer `rid` (its SSRC, the RID and MID header extensions as Chromium sends them). */
  send(rid: string, seq: number): void;
  close(): void;
}

/**
 * A simulcast publisher of one VP8 video track (MID `v0`) with the layers `rids`
 * (`a=rid:… send`, `a=simulcast:send …`): node-datachannel cannot make such offers itself, so
 * the lines are added to its section and each packet carries the RFC 8852 RID and RFC 8843
 * MID header extensions, so that the SFU tells the layers apart as it does Chromium's.
 */
export async function simulcastPeer(rids: string[], ssrcBase = 0x5100_0000): Promise<SimulcastPeer> {
  const MID_EXT = 4;
  const RID_EXT = 10;
  const pc = new PeerConnection('simulcast', { iceServers: [], disableAutoNegotiation: true });
  const video = new Video('v0', 'SendOnly');
  video.addVP8Codec(96);
  video.parseSdpLine(`a=extmap:${MID_EXT} urn:ietf:params:rtp-hdrext:sdes:mid`);
  video.parseSdpLine(`a=extmap:${RID_EXT} urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id`);
  for (const rid of rids) video.parseSdpLine(`a=rid:${rid} send`);
  video.parseSdpLine(`a=simulcast:send ${rids.join(';')}`);
  const track = pc.addTrack(video);
  let open = false;
  track.onOpen(() => (open = true));
  pc.setLocalDescription('offer');
  const offer = await complete(pc);
  const element = (id: number, value: string): Buffer => Buffer.concat([Buffer.from([(id << 4) | (value.length - 1)]), Buffer.from(value)]);
  return {
    offer,
    accept: async (answer) => {
      pc.setRemoteDescription(answer, 'answer');
      await until(() => open, 15_000, 'simulcast publisher track open');
    },
    send: (rid, seq) => {
      const header = Buffer.alloc(12);
      header[0] = 0x90; // version 2, extension
      header[1] = 96;
      header.writeUInt16BE(seq & 0xffff, 2);
      header.writeUInt32BE((seq * 3000) >>> 0, 4);
      header.writeUInt32BE(ssrcBase + rids.indexOf(rid), 8);
      const elements = Buffer.concat([element(MID_EXT, 'v0'), element(RID_EXT, rid)]);
      const padded = Buffer.concat([elements, Buffer.alloc((4 - (elements.length % 4)) % 4)]);
      const extension = Buffer.concat([Buffer.from([0xbe, 0xde, 0, padded.length / 4]), padded]);
      track.sendMessageBinary(Buffer.concat([header, extension, Buffer.from([0x10, 0x00, 0x9d, 0x01, 0x2a])]));
    },
    close: () => {
      track.close();
      pc.close();
    },
  };
}
