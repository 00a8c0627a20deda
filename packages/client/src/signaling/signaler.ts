/**
 * The seam between rooms/peers and whatever carries signaling. The hub is one Signaler;
 * MQTT, Redis, manual/QR and a fallback chain implement the same interface (dial-out issue).
 * A Signaler delivers each message at most once and in order per sender; the hub's adds
 * "exactly once across reconnects".
 */
import type { Json, PeerMeta, PeerInfo } from '@pinhole/protocol';
import type { Emitter } from '../emitter.js';
import type { PeerConnection } from '../peer/peer-connection.js';

export type SignalerState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface SignalerEvents {
  [event: string]: unknown;
  'peer-joined': { room: string; peer: PeerInfo };
  'peer-left': { room: string; peer: string; reason: string };
  /** A message addressed to this peer alone. */
  signal: { room?: string; from: string; data: Json };
  /** A message sent to a whole room. */
  broadcast: { room: string; from: string; data: Json };
  state: SignalerState;
  /** The rooms this signaler had joined were lost (e.g. the hub session expired) and were joined again. */
  rejoined: { room: string; peers: PeerInfo[] };
  /**
   * A failure that does not end the signaler: a message it refused or could not send, a
   * hub error not tied to a request. Each signaler narrows it to its coded errors
   * (`SignalingError`, `HubError`); wrappers (chain, in-band, sealed) pass their inner
   * signaler's on.
   */
  error: Error;
}

export interface Signaler extends Emitter<SignalerEvents> {
  /** 'hub', 'mqtt', 'redis', 'manual', … (named in connectivity reports). */
  readonly kind: string;
  /** Our peer id, as others see it in `from`. */
  readonly localId: string;
  /** The carrier in use right now: 'ws' | 'sse' | 'poll' for the hub, 'mqtt', …; shown in reports. */
  readonly transport: string;
  readonly state: SignalerState;
  /**
   * True when signals can be exchanged only once, before the connection exists (manual
   * strings): a first connection that is slow to come up cannot be rebuilt, since nothing
   * could carry the new offer, so rooms never time it out. Default false.
   */
  readonly oneShot?: boolean;
  /**
   * Joins a room; resolves with the peers already there. Their signals for the room may be
   * emitted before it resolves (an offer right behind the join's answer): rooms hold them
   * until these peers exist.
   */
  join(room: string, meta?: PeerMeta): Promise<PeerInfo[]>;
  leave(room: string): Promise<void>;
  /** Sends to one peer (queued while disconnected; never dropped silently). */
  signal(to: string, data: Json, room?: string): void;
  broadcast(room: string, data: Json): void;
  close(): Promise<void>;
  /**
   * Optional: a room hands over each peer connection it builds with `peer`, so the signaler
   * can carry that peer's later signals over the connection itself (InBandSignaler). The
   * signaler lets go of it when the connection closes.
   */
  attach?(room: string, peer: string, connection: PeerConnection): void;
}
