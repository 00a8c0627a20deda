/**
 * Another member of a room, seen from here: its id and meta, messages to it, and (in a
 * connected room) the peer connection with its named channels and connectivity report.
 */
import type { Json, PeerMeta } from '@pinhole/protocol';
import { Emitter } from './emitter.js';
import type { PeerConnection } from './peer/peer-connection.js';
import type { ConnectivityReport } from './peer/report.js';
import { Channels } from './data/channels.js';
import type { ChannelOptions } from './data/channel.js';
import type { NamedChannel } from './data/channel.js';
import type { Room } from './room.js';

export type RemotePeerEvents = {
  /** The peer connection's state (connecting → connected; failed/disconnected while repairing). */
  state: RTCPeerConnectionState;
  track: { track: MediaStreamTrack; streams: readonly MediaStream[] };
  /** The peer opened a named channel. */
  channel: NamedChannel;
  closed: void;
};

export class RemotePeer extends Emitter<RemotePeerEvents> {
  /** Named data channels to this peer (present in connected rooms). */
  readonly channels: Channels | undefined;

  constructor(
    readonly room: Room,
    readonly id: string,
    readonly meta: PeerMeta,
    readonly connection: PeerConnection | undefined,
  ) {
    super();
    if (connection) {
      connection.on('state', (s) => this.emit('state', s));
      connection.on('track', ({ track, streams }) => this.emit('track', { track, streams }));
      this.channels = new Channels(connection);
      this.channels.on('channel', (ch) => this.emit('channel', ch));
    }
  }

  /** Sends a message through signaling (not the data channel). */
  send(data: Json): void {
    this.room.send(this.id, data);
  }

  /** Opens (or returns) the named channel `name` to this peer. */
  channel(name: string, options?: ChannelOptions): NamedChannel {
    if (!this.channels) throw new Error(`room '${this.room.name}' was joined with connect: false: no data channels`);
    return this.channels.open(name, options);
  }

  /** Connectivity: candidate types, protocol, RTT, bitrates and the signaling transport. */
  async report(): Promise<ConnectivityReport> {
    if (!this.connection) throw new Error('no peer connection in this room');
    return this.connection.report();
  }

  close(): void {
    this.channels?.close();
    this.connection?.close();
    this.emit('closed', undefined);
  }
}
