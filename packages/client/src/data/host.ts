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
export interface ChannelHost {
  createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel;
  on(event: 'datachannel', listener: (channel: RTCDataChannel) => void): () => void;
  on(event: 'reset', listener: (info: { gen: number }) => void): () => void;
  /** 'connected' when the current RTCPeerConnection is connected. */
  readonly connectionState: RTCPeerConnectionState;
}
