/**
 * `connect()` returns a Session: one signaling session with the hub (kept alive across
 * drops and transport changes) and the rooms joined over it. Peer connections get the
 * hub's ICE servers (fresh TURN credentials with every welcome) unless overridden.
 */
import type { PeerMeta } from '@pinhole/protocol';
import { Emitter } from './emitter.js';
import { HubSignaler, type HubSignalerEvents } from './signaling/hub-signaler.js';
import type { HubConnectionOptions, HubUrls } from './signaling/hub-connection.js';
import type { TransportName } from './signaling/link.js';
import type { Platform } from './signaling/platform.js';
import { Room, type RoomOptions } from './room.js';
import type { RTCPeerConnectionConstructor } from './peer/peer-connection.js';
import { SignalingError } from './signaling/errors.js';

export interface ConnectOptions extends Omit<HubConnectionOptions, 'platform'> {
  /** ICE servers for peer connections; default: the hub's (`welcome.iceServers`). */
  iceServers?: RTCIceServer[];
  /** 'relay' forces TURN (diagnostics, privacy). */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Another WebRTC implementation (werift, @roamhq/wrtc, …). */
  RTCPeerConnection?: RTCPeerConnectionConstructor;
  platform?: Platform;
  /** File transfer settings for every room (Node: hashing with node:crypto by default). */
  files?: RoomOptions['files'];
  /** Watches for network changes (new interface, address change) to restart ICE. */
  onNetworkChange?: (listener: () => void) => () => void;
}

export type SessionEvents = Pick<HubSignalerEvents, 'reconnecting' | 'reconnected' | 'transport-changed' | 'disconnected' | 'expired' | 'error' | 'state'>;

export class Session extends Emitter<SessionEvents> {
  readonly signaler: HubSignaler;
  readonly rooms = new Map<string, Room>();
  readonly #offNetwork: (() => void) | undefined;

  constructor(
    /** The hub: one URL, or several nodes of one cluster (tried in turn). */
    readonly url: HubUrls,
    readonly options: ConnectOptions & { platform: Platform },
  ) {
    super();
    this.signaler = new HubSignaler(url, options);
    const s = this.signaler;
    for (const event of ['reconnecting', 'transport-changed', 'disconnected', 'expired', 'error', 'state'] as const) {
      s.on(event, (payload) => this.emit(event, payload as never));
    }
    s.on('reconnected', (payload) => {
      this.emit('reconnected', payload);
      // The path to the hub broke: the media path may have too. Repair what is not connected.
      for (const room of this.rooms.values()) {
        for (const peer of room.peers.values()) if (peer.connection && peer.connection.connectionState !== 'connected') peer.connection.restartIce('signaling reconnected');
      }
    });
    this.#offNetwork = options.onNetworkChange?.(() => {
      for (const room of this.rooms.values()) room.restartIce('network change');
    });
  }

  /** Our peer id in every room (changes only if the hub session expired: see 'expired'). */
  get peerId(): string {
    return this.signaler.localId;
  }

  get identity(): string | undefined {
    return this.signaler.connection.welcome?.identity;
  }

  /** The signaling transport in use: 'ws' | 'sse' | 'poll'. */
  get transport(): TransportName {
    return this.signaler.transport;
  }

  get state(): HubSignaler['state'] {
    return this.signaler.state;
  }

  /** ICE servers for new peer connections: the option, else the hub's latest. */
  get iceServers(): RTCIceServer[] {
    return this.options.iceServers ?? (this.signaler.connection.welcome?.iceServers as RTCIceServer[] | undefined) ?? [];
  }

  async open(): Promise<this> {
    await this.signaler.open();
    return this;
  }

  /** Joins a room; resolves once joined, with the members present in `room.peers`. */
  async join(name: string, meta: PeerMeta = {}, options: Omit<RoomOptions, 'RTCPeerConnection' | 'configuration'> = {}): Promise<Room> {
    if (this.rooms.has(name)) throw new SignalingError('already-joined', `already in room '${name}'`);
    const room = await Room.join(this.signaler, name, meta, {
      RTCPeerConnection: this.options.RTCPeerConnection,
      configuration: () => ({ iceServers: this.iceServers, iceTransportPolicy: this.options.iceTransportPolicy ?? 'all' }),
      ...(this.options.files ? { files: this.options.files } : {}),
      ...options,
    });
    this.rooms.set(name, room);
    room.on('left', () => this.rooms.delete(name));
    return room;
  }

  /** Leaves every room and ends the hub session (peers see us leave at once). */
  async close(): Promise<void> {
    this.#offNetwork?.();
    for (const room of [...this.rooms.values()]) await room.leave();
    await this.signaler.close();
  }
}
