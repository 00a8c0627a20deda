/**
 * In-band signaling (docs/protocol.md §14.6): a Signaler wrapper that, once a peer
 * connection is up, carries that peer's later negotiation — renegotiation offers and
 * answers (a track added, a screen share), in-place ICE restarts, late candidates — over the
 * connection's own control channel (the negotiated channel every SDK connection has, id
 * CONTROL_CHANNEL_ID) instead of the signaler it wraps. A manual/QR exchange thereby stops
 * being one-shot, and a connection made through a hub or broker stays negotiable while that
 * signaler is gone. Rooms feed what arrives to the same PeerConnection and Negotiation as
 * any other signal.
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
import { SignalingError } from './errors.js';
import { byteLength, decodeInBand, encodeInBandError } from './in-band-wire.js';
import { MAX_IN_BAND_FRAME_BYTES } from './rendezvous-defaults.js';

export interface InBandSignalerEvents extends SignalerEvents {
  /**
   * `bad-payload`: a control-channel frame we refused (dropped, and answered with an error
   * frame), or the remote's answer saying it refused one of ours; and the wrapped signaler's
   * own errors. The connection and the signaler go on.
   */
  error: Error;
}

/** What in-band signaling did on one peer's connection (for diagnostics and tests). */
export interface InBandStatus {
  /** The current connection's control channel is open. */
  open: boolean;
  /** Signals sent and received in-band over this peer's connections so far. */
  sent: number;
  received: number;
}

/** One peer's connection seen by the signaler: its control channel, rebound on every rebuild. */
class Link {
  sent = 0;
  received = 0;
  #listeners = new AbortController();

  constructor(
    readonly room: string,
    readonly peer: string,
    readonly connection: PeerConnection,
    readonly onFrame: (link: Link, data: unknown) => void,
  ) {
    this.bind();
  }

  get open(): boolean {
    return !this.connection.closed && this.connection.control.readyState === 'open';
  }

  /** Listens on the current connection's control channel (a rebuild made a new one). */
  bind(): void {
    this.#listeners.abort();
    this.#listeners = new AbortController();
    const channel = this.connection.control;
    channel.addEventListener('message', (event) => this.onFrame(this, (event as MessageEvent).data), { signal: this.#listeners.signal });
  }

  send(text: string): void {
    this.connection.control.send(text);
  }

  dispose(): void {
    this.#listeners.abort();
  }
}

export class InBandSignaler extends Emitter<InBandSignalerEvents> implements Signaler {
  readonly inner: Signaler;
  /** By room, then peer. */
  readonly #links = new Map<string, Map<string, Link>>();

  constructor(inner: Signaler) {
    super();
    this.inner = inner;
    const events = inner as unknown as Emitter<InBandSignalerEvents>;
    for (const name of ['state', 'peer-joined', 'peer-left', 'signal', 'broadcast', 'rejoined', 'error'] as const) {
      events.on(name, (payload) => this.emit(name, payload as never));
    }
  }

  get kind(): string {
    return this.inner.kind;
  }

  get transport(): string {
    return this.inner.transport;
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
    for (const links of this.#links.values()) for (const link of links.values()) link.dispose();
    this.#links.clear();
    await this.inner.close();
  }

  signal(to: string, data: Json, room?: string): void {
    const link = isRtcSignal(data) ? this.#linkTo(to, room) : undefined;
    const text = link && this.#goesInBand(link, data as unknown as RtcSignal) ? JSON.stringify(data) : undefined;
    if (link && text !== undefined && byteLength(text) <= MAX_IN_BAND_FRAME_BYTES) {
      link.send(text);
      link.sent++;
    } else {
      this.inner.signal(to, data, room);
    }
  }

  attach(room: string, peer: string, connection: PeerConnection): void {
    let links = this.#links.get(room);
    if (!links) this.#links.set(room, (links = new Map()));
    links.get(peer)?.dispose();
    const link = new Link(room, peer, connection, (l, data) => this.#onFrame(l, data));
    links.set(peer, link);
    connection.on('reset', () => link.bind());
    connection.on('closed', () => {
      link.dispose();
      if (this.#links.get(room)?.get(peer) === link) this.#links.get(room)!.delete(peer);
    });
  }

  /** In-band signaling on the connection to `peer` (in `room`, or the first room with one); undefined if none. */
  status(peer: string, room?: string): InBandStatus | undefined {
    const link = this.#linkTo(peer, room);
    return link && { open: link.open, sent: link.sent, received: link.received };
  }

  #linkTo(peer: string, room: string | undefined): Link | undefined {
    if (room !== undefined) return this.#links.get(room)?.get(peer);
    for (const links of this.#links.values()) if (links.has(peer)) return links.get(peer);
    return undefined;
  }

  #goesInBand(link: Link, signal: RtcSignal): boolean {
    if (!link.open || signal.gen !== link.connection.gen) return false;
    const inner = this.inner;
    if (inner.kind === 'manual' || inner.state === 'closed') return true;
    return inner.state !== 'connected' && link.connection.connectionState === 'connected';
  }

  #onFrame(link: Link, data: unknown): void {
    let frame;
    try {
      frame = decodeInBand(data, link.connection.gen);
    } catch (err) {
      const error = err as SignalingError;
      this.emit('error', new SignalingError('bad-payload', `from ${link.peer}: ${error.message}`));
      if (link.open) link.send(encodeInBandError(error));
      return;
    }
    if (frame.pinhole === 'error') {
      this.emit('error', new SignalingError('bad-payload', `${link.peer} refused an in-band frame of ours: ${frame.message}`));
      return;
    }
    link.received++;
    this.emit('signal', { room: link.room, from: link.peer, data: frame as unknown as Json });
  }
}
