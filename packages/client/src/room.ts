/**
 * A room over any Signaler: the members (RemotePeer), messages to one or all, and — unless
 * `connect: false` — a mesh of peer connections, one per member, with named data channels
 * and file transfer on each. Members the hub marks as services (the SFU) are not peers: no
 * connection is opened to them; they are listed in `services`. Rooms never talk to the hub directly, so the same code runs
 * over MQTT, Redis or a manual exchange.
 */
import type { Json, PeerInfo, PeerMeta } from '@pinhole/protocol';
import { Emitter } from './emitter.js';
import { HeldEvents } from './held-events.js';
import type { Signaler } from './signaling/signaler.js';
import { isRtcSignal, relayOnly, type RtcSignal } from './peer/signals.js';
import { PeerConnection, type RTCPeerConnectionConstructor } from './peer/peer-connection.js';
import { RemotePeer } from './remote-peer.js';
import type { LocalMedia } from './media/local-media.js';
import type { FileTransferOptions } from './data/files.js';
import type { IncomingTransfer } from './data/incoming.js';
import { PeerError } from './peer/errors.js';

export interface RoomOptions {
  /** Open a peer connection to every member (mesh). Default true. */
  connect?: boolean;
  /** The WebRTC implementation (browsers: the global; Node: node-datachannel unless given). */
  RTCPeerConnection?: RTCPeerConnectionConstructor;
  /** Read when each connection is built, so fresh TURN credentials apply. */
  configuration?: () => RTCConfiguration;
  /** Local camera/mic/screen to send to every member. */
  media?: LocalMedia;
  /** Passed to every PeerConnection; with a one-shot signaler (manual) connections never time out. */
  connectTimeoutMs?: number;
  /** Passed to every PeerConnection. */
  disconnectedTimeoutMs?: number;
  /** File transfer settings (chunk size, windows, hashing). */
  files?: FileTransferOptions;
}

export type RoomEvents = {
  'peer-joined': RemotePeer;
  'peer-left': { peer: RemotePeer; reason: string };
  /** A service member (the hub's `service` mark, e.g. the SFU) entered the room. */
  'service-joined': PeerInfo;
  'service-left': { service: PeerInfo; reason: string };
  /** A message sent to us alone (`room.send`). */
  message: { from: RemotePeer | string; data: Json };
  /** A message sent to the whole room (`room.broadcast`). */
  broadcast: { from: RemotePeer | string; data: Json };
  /** A remote media track arrived. */
  track: { peer: RemotePeer; track: MediaStreamTrack; streams: readonly MediaStream[] };
  /** A member offers a file. */
  file: { peer: RemotePeer; transfer: IncomingTransfer };
  /** Our membership was lost and restored (new signaling session): members were rebuilt. */
  rejoined: { peers: RemotePeer[] };
  left: void;
};

/**
 * The rooms open on each signaler, oldest first. A signal without `room` (a third-party
 * client may send one) goes to the oldest room the sender is a member of, not to every
 * shared room: two peer connections must never both take one peer's SDP.
 */
const roomsBySignaler = new WeakMap<Signaler, Room[]>();

export class Room extends Emitter<RoomEvents> {
  readonly peers = new Map<string, RemotePeer>();
  /** Service members by peer id (`info.service` names the kind: `"sfu"`); never in `peers`. */
  readonly services = new Map<string, PeerInfo>();
  #left = false;
  readonly #off: (() => void)[];
  /**
   * While `join()` is outstanding: this room's signaler events, in order, handled once the
   * members it returns exist. A signaler may deliver a member's offer before (or in the same
   * task as) the join's result, e.g. the hub's `joined` and a signal read from one TCP
   * chunk, or a broker signal that comes while its join is still reading presences; handled
   * at once, it would find no peer and be dropped, and both sides would wait for the connect
   * timeout.
   */
  readonly #held = new HeldEvents();

  constructor(
    readonly signaler: Signaler,
    readonly name: string,
    readonly meta: PeerMeta,
    readonly options: RoomOptions = {},
  ) {
    super();
    const s = signaler;
    const open = roomsBySignaler.get(s) ?? [];
    roomsBySignaler.set(s, [...open, this]);
    this.#off = [
      () => roomsBySignaler.set(s, (roomsBySignaler.get(s) ?? []).filter((r) => r !== this)),
      s.on('peer-joined', ({ room, peer }) => this.#held.run(() => room === name && this.#add(peer))),
      s.on('peer-left', ({ room, peer, reason }) => this.#held.run(() => room === name && this.#remove(peer, reason))),
      s.on('signal', ({ room, from, data }) => this.#held.run(() => (room === name || (room === undefined && this.#takesRoomless(from))) && this.#onSignal(from, data))),
      s.on('broadcast', ({ room, from, data }) => this.#held.run(() => room === name && this.emit('broadcast', { from: this.peers.get(from) ?? from, data }))),
      s.on('rejoined', ({ room, peers }) => this.#held.run(() => room === name && this.#rejoined(peers))),
    ];
  }

  /** Joins `name` on `signaler` and returns the room with its current members. */
  static async join(signaler: Signaler, name: string, meta: PeerMeta = {}, options: RoomOptions = {}): Promise<Room> {
    const room = new Room(signaler, name, meta, options);
    room.#held.hold();
    try {
      const peers = await signaler.join(name, meta);
      for (const p of peers) room.#add(p);
    } catch (err) {
      room.#dispose();
      throw err;
    }
    room.#held.release();
    return room;
  }

  get localId(): string {
    return this.signaler.localId;
  }

  /** Sends `data` to one member (delivered exactly once by the hub, even across reconnects). */
  send(peer: string | RemotePeer, data: Json): void {
    const to = typeof peer === 'string' ? peer : peer.id;
    this.signaler.signal(to, data, this.name);
  }

  broadcast(data: Json): void {
    this.signaler.broadcast(this.name, data);
  }

  async leave(): Promise<void> {
    if (this.#left) return;
    this.#dispose();
    await this.signaler.leave(this.name).catch(() => undefined);
    this.emit('left', undefined);
  }

  /** Repairs every peer connection (network change, signaling back on another transport). */
  restartIce(reason: string): void {
    for (const peer of this.peers.values()) peer.connection?.restartIce(reason);
  }

  #takesRoomless(from: string): boolean {
    return roomsBySignaler.get(this.signaler)?.find((r) => r.peers.has(from)) === this;
  }

  #dispose(): void {
    this.#left = true;
    this.#held.drop();
    for (const off of this.#off) off();
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    this.services.clear();
  }

  #add(info: PeerInfo): RemotePeer | undefined {
    if (this.#left || info.peer === this.localId) return undefined;
    if (info.service !== undefined) {
      if (!this.services.has(info.peer)) {
        this.services.set(info.peer, info);
        this.emit('service-joined', info);
      }
      return undefined;
    }
    const existing = this.peers.get(info.peer);
    if (existing) return existing;
    const connection = this.options.connect === false ? undefined : this.#connect(info.peer);
    const peer = new RemotePeer(this, info.peer, info.meta, connection, this.options.files);
    this.peers.set(info.peer, peer);
    peer.on('file', (transfer) => this.emit('file', { peer, transfer }));
    if (connection) {
      connection.on('track', ({ track, streams }) => this.emit('track', { peer, track, streams }));
      this.options.media?.attach(connection);
      this.signaler.attach?.(this.name, info.peer, connection);
    }
    this.emit('peer-joined', peer);
    return peer;
  }

  #connect(remoteId: string): PeerConnection {
    const { RTCPeerConnection } = this.options;
    if (!RTCPeerConnection) throw new PeerError('unsupported', 'no RTCPeerConnection implementation: pass one, or use connect: false');
    const configuration = (): RTCConfiguration => this.options.configuration?.() ?? {};
    const filter = (s: RtcSignal): RtcSignal | undefined => (configuration().iceTransportPolicy === 'relay' ? relayOnly(s) : s);
    return new PeerConnection({
      localId: this.localId,
      remoteId,
      RTCPeerConnection,
      configuration,
      send: (signal) => {
        const out = filter(signal);
        if (out) this.signaler.signal(remoteId, out as unknown as Json, this.name);
      },
      transport: () => `${this.signaler.kind}/${this.signaler.transport}`,
      signaler: () => this.signaler.kind,
      ...(this.signaler.oneShot
        ? { connectTimeoutMs: Infinity, dtlsServerAnswer: false }
        : this.options.connectTimeoutMs === undefined
          ? {}
          : { connectTimeoutMs: this.options.connectTimeoutMs }),
      ...(this.options.disconnectedTimeoutMs === undefined ? {} : { disconnectedTimeoutMs: this.options.disconnectedTimeoutMs }),
    });
  }

  #remove(id: string, reason: string): void {
    const service = this.services.get(id);
    if (service) {
      this.services.delete(id);
      this.emit('service-left', { service, reason });
      return;
    }
    const peer = this.peers.get(id);
    if (!peer) return;
    this.peers.delete(id);
    peer.close();
    this.emit('peer-left', { peer, reason });
  }

  #onSignal(from: string, data: Json): void {
    if (isRtcSignal(data)) {
      const peer = this.peers.get(from);
      void peer?.connection?.handleSignal(data);
      return;
    }
    this.emit('message', { from: this.peers.get(from) ?? from, data });
  }

  /** Our signaling session was replaced: everyone we knew saw us leave; start over with the current members. */
  #rejoined(peers: PeerInfo[]): void {
    for (const [id] of this.peers) this.#remove(id, 'rejoined');
    for (const [id] of this.services) this.#remove(id, 'rejoined');
    const added = peers.map((p) => this.#add(p)).filter((p): p is RemotePeer => p !== undefined);
    this.emit('rejoined', { peers: added });
  }
}
