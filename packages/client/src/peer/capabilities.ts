/**
 * What the injected RTCPeerConnection implementation can do. Browsers can do all of it.
 * node-datachannel's polyfill (libdatachannel) cannot: its `restartIce`, `addTrack`,
 * `addTransceiver` and rollback are stubs, it never fires 'negotiationneeded', and
 * `createOffer` resolves one offer per RTCPeerConnection lifetime. PeerConnection reads these
 * flags instead of sniffing the platform in several places.
 */
export interface PeerCapabilities {
  /** `pc.restartIce()` restarts ICE on the same connection (data channels survive). */
  restartIce: boolean;
  /** Any number of offers per connection, with rollback and 'negotiationneeded'. */
  renegotiation: boolean;
  /** Tracks and transceivers (addTrack, getSenders, replaceTrack). */
  media: boolean;
  /** Unit of `currentRoundTripTime` in getStats (W3C says seconds; the polyfill gives ms). */
  rttUnit: 's' | 'ms';
}

export const FULL_CAPABILITIES: PeerCapabilities = { restartIce: true, renegotiation: true, media: true, rttUnit: 's' };

/** libdatachannel through node-datachannel's polyfill, identified by its documented `ext_*` extension. */
export const LIBDATACHANNEL_CAPABILITIES: PeerCapabilities = {
  restartIce: false,
  renegotiation: false,
  media: false,
  rttUnit: 'ms',
};

export function detectCapabilities(pc: RTCPeerConnection): PeerCapabilities {
  return 'ext_maxMessageSize' in pc ? LIBDATACHANNEL_CAPABILITIES : FULL_CAPABILITIES;
}

/** The same, from the constructor (the polyfill's extension is on its prototype), without building a connection. */
export function capabilitiesOf(ctor: new (configuration?: RTCConfiguration) => RTCPeerConnection): PeerCapabilities {
  return 'ext_maxMessageSize' in ctor.prototype ? LIBDATACHANNEL_CAPABILITIES : FULL_CAPABILITIES;
}
