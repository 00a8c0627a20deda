/**
 * The peer connections a signaler was handed (`Signaler.attach`) and in-band signaling on
 * their control channels (docs/protocol/rendezvous.md §14.6): frames received are validated and given
 * to `deliver` as signals from that peer in that room; refused ones are reported and
 * answered with an error frame. InBandSignaler and ManualSignaler both keep one of these;
 * each decides for itself when a signal goes in-band.
 * @internal
 */
import type { Json } from '@pinhole/protocol';
import type { PeerConnection } from '../peer/peer-connection.js';
import type { RtcSignal } from '../peer/signals.js';
import { SignalingError } from './errors.js';
import { byteLength, decodeInBand, encodeInBandError } from './in-band-wire.js';
import { MAX_IN_BAND_FRAME_BYTES } from '../defaults.js';

/** What in-band signaling did on one peer's connection (for diagnostics and tests). */
export interface InBandStatus {
  /** The current connection's control channel is open. */
  open: boolean;
  /** Signals sent and received in-band over this peer's connections so far. */
  sent: number;
  received: number;
}

export interface InBandLinksOptions {
  /** A valid signal arrived in-band from `from` (a member of `room`). */
  deliver(room: string, from: string, data: Json): void;
  /** A frame was refused (`bad-payload`), or the remote refused one of ours. */
  error(err: SignalingError): void;
}

/** One peer's connection: its control channel, rebound on every rebuild. */
export class InBandLink {
  sent = 0;
  received = 0;
  #listeners = new AbortController();

  constructor(
    readonly room: string,
    readonly peer: string,
    readonly connection: PeerConnection,
    readonly onFrame: (link: InBandLink, data: unknown) => void,
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
    this.connection.control.addEventListener('message', (event) => this.onFrame(this, (event as MessageEvent).data), { signal: this.#listeners.signal });
  }

  dispose(): void {
    this.#listeners.abort();
  }
}

export class InBandLinks {
  /** By room, then peer. */
  readonly #links = new Map<string, Map<string, InBandLink>>();
  readonly #options: InBandLinksOptions;

  constructor(options: InBandLinksOptions) {
    this.#options = options;
  }

  attach(room: string, peer: string, connection: PeerConnection): void {
    let links = this.#links.get(room);
    if (!links) this.#links.set(room, (links = new Map()));
    links.get(peer)?.dispose();
    const link = new InBandLink(room, peer, connection, (l, data) => this.#onFrame(l, data));
    links.set(peer, link);
    connection.on('reset', () => link.bind());
    connection.on('closed', () => {
      link.dispose();
      if (this.#links.get(room)?.get(peer) === link) this.#links.get(room)!.delete(peer);
    });
  }

  /** The link to `peer` in `room`, or in the first room that has one. */
  get(peer: string, room?: string): InBandLink | undefined {
    if (room !== undefined) return this.#links.get(room)?.get(peer);
    for (const links of this.#links.values()) if (links.has(peer)) return links.get(peer);
    return undefined;
  }

  status(peer: string, room?: string): InBandStatus | undefined {
    const link = this.get(peer, room);
    return link && { open: link.open, sent: link.sent, received: link.received };
  }

  /**
   * Sends `signal` over `link` if it can go in-band at all: the channel is open, the signal
   * is of the connection's generation (a rebuild replaces the connection carrying it) and
   * fits in a frame. Returns false (nothing sent) otherwise.
   */
  send(link: InBandLink, signal: RtcSignal): boolean {
    if (!link.open || signal.gen !== link.connection.gen) return false;
    const text = JSON.stringify(signal);
    if (byteLength(text) > MAX_IN_BAND_FRAME_BYTES) return false;
    link.connection.control.send(text);
    link.sent++;
    return true;
  }

  dispose(): void {
    for (const links of this.#links.values()) for (const link of links.values()) link.dispose();
    this.#links.clear();
  }

  #onFrame(link: InBandLink, data: unknown): void {
    let frame;
    try {
      frame = decodeInBand(data, link.connection.gen);
    } catch (err) {
      const error = err as SignalingError;
      this.#options.error(new SignalingError('bad-payload', `from ${link.peer}: ${error.message}`));
      if (link.open) link.connection.control.send(encodeInBandError(error));
      return;
    }
    if (frame.pinhole === 'error') {
      this.#options.error(new SignalingError('bad-payload', `${link.peer} refused an in-band frame of ours: ${frame.message}`));
      return;
    }
    link.received++;
    this.#options.deliver(link.room, link.peer, frame as unknown as Json);
  }
}
