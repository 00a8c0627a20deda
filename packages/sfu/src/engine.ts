/**
 * The engine seam: everything the SFU core needs from a WebRTC stack, and nothing more, so that
 * a faster engine can replace the default one (see docs/architecture.md, "Media server").
 *
 * Signaling is plain SDP: a publisher's offer goes in, its answer (complete with candidates)
 * comes out (again for each renegotiation); the SFU offers to a subscriber and takes its
 * answer, once per renegotiation of the subscriber's one transport. Each maps onto one
 * `signal` frame of the hub (docs/protocol/sfu.md). The one trickle (RFC 8838): the SFU's
 * first offer to a subscriber holds its own candidates back until the subscriber's answer is applied
 * (`SubscriberTransport.acceptAnswer`), because libdatachannel can fail a connection whose
 * answer comes while the subscriber's ICE checks are already arriving (docs/architecture.md,
 * Media server, "Early answers").
 * A viewer (a WHEP player) is a subscriber that offers itself: its offer goes in, the SFU's
 * answer comes out.
 *
 * RTP travels as raw packets (Buffer, RFC 3550 layout, decrypted): the core reads and rewrites
 * the fixed header fields itself, so no engine parses a packet the SFU only forwards.
 */

import type { Remb } from './remb.js';

export type MediaKind = 'audio' | 'video';

/** A codec as negotiated on one leg (payload types differ between legs). */
export interface Codec {
  /** e.g. "video/VP8", "video/H264", "audio/opus" (case as in SDP rtpmap). */
  mimeType: string;
  payloadType: number;
  clockRate: number;
}

/** One incoming RTP stream of a publisher: a track, or one simulcast layer (RID) of it. */
export interface IncomingStream {
  /** The transceiver's MID: the layers of one simulcast track share it. */
  readonly mid: string;
  readonly kind: MediaKind;
  /** RFC 8851 restriction identifier ("q", "h", "f" as Chromium's sendEncodings name them), or undefined without simulcast. */
  readonly rid: string | undefined;
  /** 0 until known (a simulcast layer's SSRC comes with its first packet). */
  readonly ssrc: number;
  readonly codec: Codec;
  /** Every decrypted RTP packet of this stream. One listener (the core's). */
  onRtp(listener: (packet: Buffer) => void): void;
  /** Asks the publisher for a keyframe of this stream (RTCP PLI, RFC 4585 §6.3.1). */
  requestKeyframe(): void;
}

export interface PublisherTransport {
  readonly id: string;
  /**
   * Applies the publisher's offer and returns the complete answer (all local candidates
   * included). A later offer renegotiates the transport (tracks added or removed); streams of
   * new tracks are announced through onStream while it is applied.
   */
  answer(offerSdp: string): Promise<string>;
  /**
   * A candidate the publisher trickled after its offer (WHIP PATCH, RFC 8840): `candidate` is
   * the attribute value ("candidate:…"). Throws SfuError `bad-request` for one ICE refuses.
   */
  addRemoteCandidate(candidate: { candidate: string; sdpMid?: string }): Promise<void>;
  /**
   * Tells the publisher the total bitrate it may send on the listed SSRCs: a REMB
   * (draft-alvestrand-rmcat-remb, remb.ts), the SFU's congestion feedback to publishers.
   */
  sendBitrateEstimate(remb: Remb): void;
  /** Each stream as its first packet (or its SDP) makes it known; layers of one track arrive as separate streams. */
  onStream(listener: (stream: IncomingStream) => void): void;
  /** The transport failed or was closed by the peer. */
  onClose(listener: () => void): void;
  close(): void;
}

/** A send-only track on a subscriber's transport, with an SSRC the SFU chooses. */
export interface OutgoingTrack {
  readonly kind: MediaKind;
  readonly ssrc: number;
  /** The codec this leg negotiated (payload type to write into forwarded packets). */
  readonly codec: Codec;
  /**
   * Sends one RTP packet whose SSRC and payload type are already this track's. `packet` is
   * lent for the call only: the core rewrites the same buffer for the next subscriber as soon
   * as this returns, so an engine that sends later must copy it first.
   */
  send(packet: Buffer): void;
  /** The subscriber asked for a keyframe (PLI or FIR). */
  onKeyframeRequest(listener: () => void): void;
  /** The subscriber's estimate of what its transport can receive, in bit/s: each REMB it sends about this track. */
  onBitrateEstimate(listener: (bitrate: number) => void): void;
  /**
   * The subscriber asked for packets again (Generic NACK, RFC 4585 §6.2.1): `requested`
   * sequence numbers, of which the engine resent `resent` (the same packets, same SSRC and
   * sequence numbers) from its bounded history of what it sent on this track; the rest were
   * too old, or never sent. Engines resend by themselves: the core only counts.
   */
  onNack(listener: (requested: number, resent: number) => void): void;
}

/** One ICE candidate for the remote's addIceCandidate (W3C RTCIceCandidateInit's fields). */
export interface IceCandidate {
  /** The SDP attribute value, `candidate:…` (RFC 8839 §5.1), without `a=`. */
  candidate: string;
  /** The media section it belongs to (all of them share one transport: BUNDLE). */
  sdpMid: string;
}

/** A track on a subscriber transport: its media section's MID in the SFU's offers. */
export interface SubscriberTrack extends OutgoingTrack {
  readonly mid: string;
}

/**
 * A subscriber's one transport (BUNDLE: one ICE and DTLS) for every track it receives, from
 * every publisher, renegotiated as tracks come and go: change the tracks, createOffer, apply
 * the answer; one offer at a time (the caller waits for each answer before the next offer).
 */
export interface SubscriberTransport {
  readonly id: string;
  /**
   * Adds a send-only track offering exactly this codec (the publisher's: the SFU does not
   * transcode), at any time; it is negotiated by the next createOffer and can send once that
   * offer's answer is applied. It may reuse the section of a removed track of the same kind
   * (so the number of sections stays bounded), with a new SSRC, but only once an answer took
   * that section as inactive.
   */
  addTrack(mimeType: string): SubscriberTrack;
  /** Stops sending on `track` at once; the next offer has its section inactive, free for a later addTrack. */
  removeTrack(track: SubscriberTrack): void;
  /**
   * The SFU's offer of the whole transport (every section, removed ones inactive). The first
   * one is gathered completely but without its candidates: until the subscriber's answer is
   * applied, the subscriber must not be able to reach this transport (see the file comment).
   * `acceptAnswer` hands them out.
   */
  createOffer(): Promise<string>;
  /**
   * Applies the subscriber's answer to the last offer; the first time, then gives
   * `onCandidates` every candidate that offer held back (at once, before waiting: the
   * subscriber may need them to connect, e.g. behind a NAT; gathering was complete, so
   * end-of-candidates can follow them), and later only candidates a renegotiation brought, if
   * any. Resolves when the transport can send media on every active track.
   */
  acceptAnswer(answerSdp: string, onCandidates: (candidates: IceCandidate[]) => void): Promise<void>;
  onClose(listener: () => void): void;
  close(): void;
}

/** What a viewer is to receive: one of a publisher's tracks, by kind and codec. */
export interface WantedTrack {
  readonly kind: MediaKind;
  /** The publisher's codec (the SFU does not transcode), e.g. "video/VP8". */
  readonly mimeType: string;
}

/**
 * A subscriber that sends the offer itself (WHEP, draft-ietf-wish-whep: recvonly audio and
 * video sections): the SFU answers, sending on the sections that accept a wanted track.
 */
export interface ViewerTransport {
  readonly id: string;
  /**
   * Applies the viewer's offer and gives each wanted track, in order, the first unused media
   * section of its kind whose codecs include the track's: its OutgoingTrack carries the
   * viewer's payload type for that codec and the SSRC the answer announces; undefined where
   * no section fits (sections left over are answered inactive). Throws SfuError `bad-sdp`.
   */
  acceptOffer(offerSdp: string, wanted: readonly WantedTrack[]): Promise<(OutgoingTrack | undefined)[]>;
  /** The SFU's answer, complete with candidates; call after acceptOffer. */
  createAnswer(): Promise<string>;
  /** A candidate the viewer trickled (WHEP PATCH); as PublisherTransport.addRemoteCandidate. */
  addRemoteCandidate(candidate: { candidate: string; sdpMid?: string }): Promise<void>;
  /** Resolves once media can flow (ICE and DTLS up); rejects with SfuError `closed` or `timeout` if that never comes. */
  connected(): Promise<void>;
  /** The transport failed or was closed by the peer. */
  onClose(listener: () => void): void;
  close(): void;
}

/**
 * Live resources of an engine: tests assert these return to zero when everyone has left.
 * `subscribers` counts every transport that sends media out, viewers included.
 */
export interface EngineCounts {
  publishers: number;
  subscribers: number;
}

/** Receives publishers (one decrypt per incoming packet). */
export interface PublisherEngine {
  readonly name: string;
  createPublisherTransport(): PublisherTransport;
  /** Live publisher transports. */
  publisherCount(): number;
  close(): void;
}

/** Sends to subscribers (one encrypt and send per subscriber: the hot path that decides capacity). */
export interface SubscriberEngine {
  readonly name: string;
  createSubscriberTransport(): SubscriberTransport;
  /** Live subscriber transports. */
  subscriberCount(): number;
  close(): void;
}

/** Answers viewers' offers (WHEP). */
export interface ViewerEngine {
  readonly name: string;
  createViewerTransport(): ViewerTransport;
  /** Live viewer transports. */
  viewerCount(): number;
  close(): void;
}

/** What the SFU runs on: possibly several engines, one per direction (see combineEngines). */
export interface Engine {
  readonly name: string;
  createPublisherTransport(): PublisherTransport;
  createSubscriberTransport(): SubscriberTransport;
  createViewerTransport(): ViewerTransport;
  counts(): EngineCounts;
  /** Closes every transport the engine still holds. */
  close(): void;
}

/** One engine receiving publishers, another sending to subscribers, a third (or one of them) answering viewers. */
export function combineEngines(publishers: PublisherEngine, subscribers: SubscriberEngine, viewers: ViewerEngine): Engine {
  const engines = [...new Set<PublisherEngine | SubscriberEngine | ViewerEngine>([publishers, subscribers, viewers])];
  return {
    name: [...new Set(engines.map((e) => e.name))].join('+'),
    createPublisherTransport: () => publishers.createPublisherTransport(),
    createSubscriberTransport: () => subscribers.createSubscriberTransport(),
    createViewerTransport: () => viewers.createViewerTransport(),
    counts: () => ({ publishers: publishers.publisherCount(), subscribers: subscribers.subscriberCount() + viewers.viewerCount() }),
    close: () => {
      for (const e of engines) e.close();
    },
  };
}

/** Typed failure of an engine operation (bad SDP, missing simulcast, closed transport…). */
export class SfuError extends Error {
  constructor(
    readonly code: 'bad-sdp' | 'unsupported-codec' | 'closed' | 'timeout' | 'not-found' | 'bad-request' | 'over-capacity',
    message: string,
  ) {
    super(message);
    this.name = 'SfuError';
  }
}
