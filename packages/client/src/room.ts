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
import { capabilitiesOf } from './peer/capabilities.js';
import { Topology, type SfuRefusal, type TopologyMode } from './sfu/topology.js';
import { asSfuMessage, isMediaNote } from './sfu/signals.js';
import type { SfuMediaReport } from './sfu/report.js';
import { whenFlowing } from './media/flowing.js';

/** Media from a publisher that is not a member of the room (a WHIP stream through the gateway). */
export interface RoomStream {
  /** The publication's id (the gateway's resource id). */
  id: string;
  /** Its name (from the WHIP token or `?name=`), or the id. */
  name: string;
  stream: MediaStream;
}

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
  /**
   * Where media goes (docs/protocol/peer.md §12.5): `auto` (default) peer-to-peer up to
   * `meshMax` participants and through the room's SFU past that; `sfu` through the SFU
   * whenever the room has one; `mesh` always peer-to-peer. Data channels and files always
   * go peer-to-peer. Needs an RTCPeerConnection that carries media (browsers).
   */
  topology?: 'mesh' | 'sfu' | 'auto';
  /** Participants (us included) an `auto` room keeps peer-to-peer. Default DEFAULT_MESH_MAX (2). */
  meshMax?: number;
  /** An `auto` room that shrank to `meshMax` goes back to the mesh after this long. Default MESH_RETURN_MS: never. */
  meshReturnMs?: number;
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
  /** A publication that is not a member's (a WHIP stream) started to play through the SFU. */
  stream: RoomStream;
  /** One of its tracks carries media (show the latest, as for `track`). */
  'stream-track': { stream: RoomStream; track: MediaStreamTrack };
  'stream-ended': { id: string };
  /**
   * The SFU's active speaker changed (RFC 6464 audio levels of everyone who publishes there):
   * `id` a member's peer id (`peer` set) or a stream's id; undefined when nobody speaks.
   */
  'active-speaker': { id: string | undefined; peer: RemotePeer | undefined };
  /** Media moved between the mesh and the SFU (see RoomOptions.topology). */
  topology: { mode: TopologyMode };
  /**
   * The SFU refused our publication or a subscription as `over-capacity` (one of its limits)
   * in a room too big to fall back to the mesh: not retried at once (docs/protocol/sfu.md §15.2).
   */
  'sfu-error': SfuRefusal;
  /** A remote media track carries media (on the mesh or through the SFU: show the latest one). */
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
  /** Media in the room from publishers that are not members (WHIP streams through the gateway), by publication id. */
  readonly streams = new Map<string, RoomStream>();
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
  readonly #topology: Topology | undefined;
  #speaker: string | undefined;

  constructor(
    readonly signaler: Signaler,
    readonly name: string,
    readonly meta: PeerMeta,
    readonly options: RoomOptions = {},
  ) {
    super();
    this.#topology = this.#makeTopology();
    const s = signaler;
    const open = roomsBySignaler.get(s) ?? [];
    roomsBySignaler.set(s, [...open, this]);
    this.#off = [
      () => roomsBySignaler.set(s, (roomsBySignaler.get(s) ?? []).filter((r) => r !== this)),
      s.on('peer-joined', ({ room, peer }) => this.#held.run(() => room === name && this.#add(peer))),
      s.on('peer-left', ({ room, peer, reason }) => this.#held.run(() => room === name && this.#remove(peer, reason))),
      s.on('signal', ({ room, from, data }) => this.#held.run(() => (room === name || (room === undefined && this.#takesRoomless(from))) && this.#onSignal(from, data))),
      s.on('broadcast', ({ room, from, data }) => this.#held.run(() => room === name && !this.#fromSfu(from, data) && this.emit('broadcast', { from: this.peers.get(from) ?? from, data }))),
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

  /** Where our media goes now: `mesh` (peer-to-peer) or `sfu`. */
  get topology(): TopologyMode {
    return this.#topology?.mode ?? 'mesh';
  }

  /** The SFU's peer id while the room has one (the latest to join: a restarted SFU replaces the old one). */
  get sfu(): string | undefined {
    let latest: string | undefined;
    for (const [id, info] of this.services) if (info.service === 'sfu') latest = id;
    return latest;
  }

  /** The room's active speaker as the SFU hears it (a member's or a stream's id), while media goes through an SFU. */
  get activeSpeaker(): string | undefined {
    return this.#speaker;
  }

  /** Asks the SFU for `peer`'s video layer `rid` (`q` low, `h`, `f` full), or pauses it with null. */
  setLayer(peer: string | RemotePeer, rid: string | null): void {
    this.#topology?.setLayer(typeof peer === 'string' ? peer : peer.id, rid);
  }

  /**
   * What we receive of `peer` through the SFU (path to the SFU, layer asked for, video size
   * and bitrate); undefined while its media does not come through the SFU.
   */
  sfuReport(peer: string | RemotePeer): Promise<SfuMediaReport | undefined> {
    return this.#topology?.report(typeof peer === 'string' ? peer : peer.id, `${this.signaler.kind}/${this.signaler.transport}`) ?? Promise.resolve(undefined);
  }

  /** Our connection to the SFU that carries what we receive through it (for stats). */
  get sfuConnection(): RTCPeerConnection | undefined {
    return this.#topology?.subscriberConnection;
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
    this.#topology?.close();
    this.streams.clear();
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    this.services.clear();
  }

  #makeTopology(): Topology | undefined {
    const { topology = 'auto', connect, RTCPeerConnection, media, meshMax, meshReturnMs } = this.options;
    // A one-shot signaler (a manual exchange) never has an SFU member, and cannot carry more signals.
    if (topology === 'mesh' || connect === false || this.signaler.oneShot || !RTCPeerConnection || !capabilitiesOf(RTCPeerConnection).media) return undefined;
    const signaler = this.signaler;
    return new Topology(
      {
        get localId() {
          return signaler.localId;
        },
        connections: () => [...this.peers.values()].flatMap((p) => (p.connection ? [p.connection] : [])),
        connection: (peer) => this.peers.get(peer)?.connection,
        peerIds: () => [...this.peers.keys()],
        participants: () => this.peers.size + 1,
        sfu: () => this.sfu,
        send: (to, data) => this.signaler.signal(to, data, this.name),
        deliver: (publisher, track, stream, name) => {
          const peer = this.peers.get(publisher);
          if (peer) peer.receive(track, [stream]);
          else this.#streamTrack(publisher, name ?? publisher, track, stream);
        },
        speaker: (publisher) => {
          this.#speaker = publisher;
          this.emit('active-speaker', { id: publisher, peer: publisher === undefined ? undefined : this.peers.get(publisher) });
        },
        ended: (publisher) => {
          if (this.streams.delete(publisher)) this.emit('stream-ended', { id: publisher });
        },
        changed: (mode) => this.emit('topology', { mode }),
        refused: (error) => this.emit('sfu-error', error),
      },
      {
        topology,
        RTCPeerConnection,
        configuration: () => this.options.configuration?.() ?? {},
        ...(media ? { media } : {}),
        ...(meshMax === undefined ? {} : { meshMax }),
        ...(meshReturnMs === undefined ? {} : { meshReturnMs }),
      },
    );
  }

  /** A track of a publication that is not a member's (a WHIP stream), once it flows. */
  #streamTrack(id: string, name: string, track: MediaStreamTrack, stream: MediaStream): void {
    whenFlowing(track, () => {
      if (this.#left) return;
      const known = this.streams.get(id);
      const entry: RoomStream = { id, name, stream };
      this.streams.set(id, entry);
      if (!known) this.emit('stream', entry);
      this.emit('stream-track', { stream: entry, track });
    });
  }

  #add(info: PeerInfo): RemotePeer | undefined {
    if (this.#left || info.peer === this.localId) return undefined;
    if (info.service !== undefined) {
      if (!this.services.has(info.peer)) {
        this.services.set(info.peer, info);
        this.emit('service-joined', info);
        this.#topology?.update();
      }
      return undefined;
    }
    const existing = this.peers.get(info.peer);
    if (existing) return existing;
    const connection = this.options.connect === false ? undefined : this.#connect(info.peer);
    const peer = new RemotePeer(this, info.peer, info.meta, connection, this.options.files);
    this.peers.set(info.peer, peer);
    peer.on('file', (transfer) => this.emit('file', { peer, transfer }));
    peer.on('track', ({ track, streams }) => {
      this.emit('track', { peer, track, streams });
      this.#topology?.flowing(peer.id, track, streams[0]);
    });
    if (connection) {
      if (this.#topology) this.#topology.added(connection);
      else this.options.media?.attach(connection);
      this.signaler.attach?.(this.name, info.peer, connection);
    }
    this.emit('peer-joined', peer);
    this.#topology?.update();
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
      this.#topology?.update();
      return;
    }
    const peer = this.peers.get(id);
    if (!peer) return;
    this.peers.delete(id);
    peer.close();
    this.emit('peer-left', { peer, reason });
    this.#topology?.update();
  }

  #onSignal(from: string, data: Json): void {
    if (isRtcSignal(data)) {
      const peer = this.peers.get(from);
      void peer?.connection?.handleSignal(data);
      return;
    }
    if (this.#fromSfu(from, data)) return;
    if (isMediaNote(data)) {
      this.#topology?.received(from, data.via);
      return;
    }
    this.emit('message', { from: this.peers.get(from) ?? from, data });
  }

  /** Hands the SFU's messages to the topology (true: taken, not for the app). */
  #fromSfu(from: string, data: Json): boolean {
    if (!this.#topology || from !== this.sfu) return false;
    const msg = asSfuMessage(data);
    if (msg) this.#topology.message(from, msg);
    return msg !== undefined;
  }

  /** Our signaling session was replaced: everyone we knew saw us leave; start over with the current members. */
  #rejoined(peers: PeerInfo[]): void {
    for (const [id] of this.peers) this.#remove(id, 'rejoined');
    for (const [id] of this.services) this.#remove(id, 'rejoined');
    const added = peers.map((p) => this.#add(p)).filter((p): p is RemotePeer => p !== undefined);
    this.emit('rejoined', { peers: added });
  }
}
