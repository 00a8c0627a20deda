/**
 * The seam between the gateway's HTTP side (WHIP/WHEP resources) and the media server: one
 * call per new session, returning the SDP answer and a handle. The gateway knows nothing of
 * engines or rooms' internals; `SfuBackend` (sfu-backend.ts) is the implementation on
 * @pinhole/sfu.
 */
import type { FragCandidate } from './sdpfrag.js';

export interface IngestRequest {
  /** The Pinhole room the stream goes into. */
  room: string;
  /** The gateway's id of this session (unique, unguessable); the publisher's peer id in the room. */
  id: string;
  /** The participant's display name (token identity or `?name=`). */
  name: string;
  /** The verified identity behind the request (the token's `sub`, or "anonymous" in dev mode). */
  identity: string;
  /** The client's SDP offer. */
  offer: string;
}

export interface ViewRequest {
  /** The Pinhole room to watch. */
  room: string;
  /** The gateway's id of this session; the viewer's id in the room (viewers are not participants). */
  id: string;
  /** The publisher to watch (its peer id in the room); undefined: the room's featured publisher. */
  participant: string | undefined;
  /** The verified identity behind the request. */
  identity: string;
  /** The client's SDP offer (recvonly audio and video, as WHEP players send). */
  offer: string;
}

export interface MediaSession {
  /** The complete SDP answer (with the server's candidates: the server does not trickle). */
  readonly answer: string;
  /** Applies candidates the client trickled (RFC 8840); resolves once handed to ICE. */
  addCandidates(candidates: FragCandidate[]): Promise<void>;
  /**
   * RTP packets received so far, for the media timeout; undefined once the media side ended
   * the session on its own (ICE or DTLS failed, the transport closed).
   */
  packets(): number | undefined;
  /** Ends the session's media (idempotent). */
  close(): void;
  /** Called once if the media side ends the session on its own (viewers: their transport closed, or the publisher left). */
  onEnded?(listener: () => void): void;
}

export interface MediaBackend {
  /** A WHIP publisher: applies its offer and publishes its tracks in the room. Throws GatewayError. */
  ingest(request: IngestRequest): Promise<MediaSession>;
  /** A WHEP viewer: answers its offer with a publisher's tracks. Throws GatewayError (404: no such publisher). */
  view(request: ViewRequest): Promise<MediaSession>;
  /** Viewers watching in `room`. */
  viewerCount(room: string): number;
  /** The publisher a view of `room` naming none would get (undefined: nobody sends video there). */
  featured(room: string): string | undefined;
}
