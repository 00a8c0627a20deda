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
import { FileTransfers, type FileTransferOptions, type SendInfo } from './data/files.js';
import type { FileSource } from './data/io.js';
import type { OutgoingTransfer } from './data/outgoing.js';
import type { IncomingTransfer } from './data/incoming.js';
import { PeerError } from './peer/errors.js';
import { whenFlowing } from './media/flowing.js';

export type RemotePeerEvents = {
  /** The peer connection's state (connecting → connected; failed/disconnected while repairing). */
  state: RTCPeerConnectionState;
  /** One of its tracks carries media (first packets arrived), on its connection or through the SFU. */
  track: { track: MediaStreamTrack; streams: readonly MediaStream[] };
  /** The peer opened a named channel. */
  channel: NamedChannel;
  /** The peer offers a file: `transfer.accept(sink)` or `transfer.reject(reason)`. */
  file: IncomingTransfer;
  closed: void;
};

export class RemotePeer extends Emitter<RemotePeerEvents> {
  /** Named data channels to this peer (present in connected rooms). */
  readonly channels: Channels | undefined;
  /** File transfers with this peer (present in connected rooms). */
  readonly files: FileTransfers | undefined;

  constructor(
    readonly room: Room,
    readonly id: string,
    readonly meta: PeerMeta,
    readonly connection: PeerConnection | undefined,
    fileOptions: FileTransferOptions = {},
  ) {
    super();
    if (connection) {
      connection.on('state', (s) => this.emit('state', s));
      connection.on('track', ({ track, streams }) => this.receive(track, streams));
      this.channels = new Channels(connection);
      this.channels.on('channel', (ch) => this.emit('channel', ch));
      this.files = new FileTransfers(connection, fileOptions);
      this.files.on('offer', (t) => this.emit('file', t));
    }
  }

  /** A track of this peer (on its connection, or through the SFU): the 'track' event once media flows on it. */
  receive(track: MediaStreamTrack, streams: readonly MediaStream[]): void {
    whenFlowing(track, () => this.emit('track', { track, streams }));
  }

  /** Sends a message through signaling (not the data channel). */
  send(data: Json): void {
    this.room.send(this.id, data);
  }

  /** Opens (or returns) the named channel `name` to this peer. */
  channel(name: string, options?: ChannelOptions): NamedChannel {
    if (!this.channels) throw new PeerError('unsupported', `room '${this.room.name}' was joined with connect: false: no data channels`);
    return this.channels.open(name, options);
  }

  /**
   * Sends a file (browser Blob/File, or a FileSource such as Node's `nodeFileSource(path)`):
   * chunked with backpressure, SHA-256 checked, resumed after a reconnect.
   */
  sendFile(source: FileSource | Blob, info?: SendInfo): OutgoingTransfer {
    if (!this.files) throw new PeerError('unsupported', `room '${this.room.name}' was joined with connect: false: no file transfer`);
    return this.files.send(source, info);
  }

  /** Connectivity: candidate types, protocol, RTT, bitrates and the signaling transport. */
  async report(): Promise<ConnectivityReport> {
    if (!this.connection) throw new PeerError('unsupported', 'no peer connection in this room');
    return this.connection.report();
  }

  close(): void {
    this.files?.close();
    this.channels?.close();
    this.connection?.close();
    this.emit('closed', undefined);
  }
}
