/**
 * In-band signaling (docs/protocol/rendezvous.md §14.6): a Signaler wrapper that, once a peer
 * connection is up, carries that peer's later negotiation — renegotiation offers and
 * answers (a track added, a screen share), in-place ICE restarts, late candidates — over the
 * connection's own control channel (the negotiated channel every SDK connection has, id
 * CONTROL_CHANNEL_ID) instead of the signaler it wraps, so a connection made through a hub,
 * a broker or a chain stays negotiable while that signaler is gone. (ManualSignaler does
 * the same by itself; around a chain that may end on a manual rung, this wrapper covers it.)
 * Rooms feed what arrives to the same PeerConnection and Negotiation as any other signal.
 *
 * Which path a signal takes: in-band when the connection's control channel is open, the
 * signal belongs to that connection's generation, and the wrapped signaler cannot carry it
 * now — a manual one (its one offer and answer are spent), a closed one, or one that is
 * reconnecting while the connection is up. Otherwise the wrapped signaler: a rebuild
 * replaces the connection and its channel, so it never goes in-band; and while a hub or
 * broker works, repairs of a broken path go through it rather than into that path. Frames
 * that arrive in-band are always taken.
 *
 * It must be the outermost signaler (a room hands it its connections through `attach`):
 * wrap a SealedSignaler in it, not the other way round (in-band frames travel inside DTLS).
 */
import type { Json, PeerInfo, PeerMeta } from '@pinhole/protocol';
import { Emitter } from '../emitter.js';
import type { PeerConnection } from '../peer/peer-connection.js';
import { isRtcSignal, type RtcSignal } from '../peer/signals.js';
import type { Signaler, SignalerEvents, SignalerState } from './signaler.js';
import { InBandLinks, type InBandLink, type InBandStatus } from './in-band-links.js';

export type { InBandStatus } from './in-band-links.js';

export interface InBandSignalerEvents extends SignalerEvents {
  /**
   * `bad-payload`: a control-channel frame we refused (dropped, and answered with an error
   * frame), or the remote's answer saying it refused one of ours; and the wrapped signaler's
   * own errors. The connection and the signaler go on.
   */
  error: Error;
}

export class InBandSignaler extends Emitter<InBandSignalerEvents> implements Signaler {
  readonly inner: Signaler;
  readonly #links = new InBandLinks({
    deliver: (room, from, data) => this.emit('signal', { room, from, data }),
    error: (err) => this.emit('error', err),
  });

  constructor(inner: Signaler) {
    super();
    this.inner = inner;
    const forward = <K extends keyof SignalerEvents & string>(name: K) => inner.on(name, (payload) => this.emit(name, payload));
    for (const name of ['state', 'peer-joined', 'peer-left', 'signal', 'broadcast', 'rejoined', 'error'] as const) forward(name);
  }

  get kind(): string {
    return this.inner.kind;
  }

  get transport(): string {
    return this.inner.transport;
  }

  get oneShot(): boolean {
    return this.inner.oneShot === true;
  }

  get localId(): string {
    return this.inner.localId;
  }

  get state(): SignalerState {
    return this.inner.state;
  }

  join(room: string, meta?: PeerMeta): Promise<PeerInfo[]> {
    return this.inner.join(room, meta);
  }

  leave(room: string): Promise<void> {
    return this.inner.leave(room);
  }

  broadcast(room: string, data: Json): void {
    this.inner.broadcast(room, data);
  }

  async close(): Promise<void> {
    this.#links.dispose();
    await this.inner.close();
  }

  signal(to: string, data: Json, room?: string): void {
    const link = isRtcSignal(data) ? this.#links.get(to, room) : undefined;
    if (link && this.#prefersInBand(link) && this.#links.send(link, data as unknown as RtcSignal)) return;
    this.inner.signal(to, data, room);
  }

  attach(room: string, peer: string, connection: PeerConnection): void {
    this.#links.attach(room, peer, connection);
  }

  /** In-band signaling on the connection to `peer` (in `room`, or the first room with one); undefined if none. */
  inBand(peer: string, room?: string): InBandStatus | undefined {
    return this.#links.status(peer, room);
  }

  /** The wrapped signaler cannot carry a signal now, and the connection's own path can. */
  #prefersInBand(link: InBandLink): boolean {
    const inner = this.inner;
    if (inner.kind === 'manual' || inner.state === 'closed') return true;
    return inner.state !== 'connected' && link.connection.connectionState === 'connected';
  }
}
