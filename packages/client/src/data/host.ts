/**
 * What the data layer needs from a peer connection. `PeerConnection` (src/peer) implements
 * it; tests may implement it over two bare RTCPeerConnections.
 *
 * A connection may be rebuilt from scratch (ICE restart where the WebRTC implementation
 * cannot restart ICE in place, e.g. node-datachannel): the old RTCPeerConnection and all its
 * data channels close, and `reset` fires once the new one exists. Named channels re-create
 * themselves on `reset` (the side that created a channel re-creates it; the other side
 * re-binds when it arrives on `datachannel`), and file transfers resume from the last
 * acknowledged chunk.
 */
import { MAX_MESSAGE_BYTES } from '../defaults.js';

export interface ChannelHost {
  createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel;
  on(event: 'datachannel', listener: (channel: RTCDataChannel) => void): () => void;
  on(event: 'reset', listener: (info: { gen: number }) => void): () => void;
  /** 'connected' when the current RTCPeerConnection is connected. */
  readonly connectionState: RTCPeerConnectionState;
  /**
   * The largest message the current connection can send (RTCSctpTransport.maxMessageSize:
   * the smaller of the remote's `a=max-message-size` and the local limit; aiortc announces
   * 65 536). Absent or not yet known: only MAX_MESSAGE_BYTES applies.
   */
  readonly maxMessageSize?: number;
}

/** The largest message to hand to one of `host`'s data channels now. */
export function messageLimit(host: ChannelHost): number {
  const remote = host.maxMessageSize;
  return remote !== undefined && remote > 0 ? Math.min(MAX_MESSAGE_BYTES, remote) : MAX_MESSAGE_BYTES;
}
