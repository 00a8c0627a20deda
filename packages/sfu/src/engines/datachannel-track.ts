/** A libdatachannel send track as the core's OutgoingTrack: subscribers' and viewers' alike. */
import type nodeDataChannel from 'node-datachannel';
import type { Codec, MediaKind, OutgoingTrack } from '../engine.js';
import { asksKeyframe, isRtcp, parseRtcp } from './common.js';

type NdcTrack = ReturnType<InstanceType<typeof nodeDataChannel.PeerConnection>['addTrack']>;

/** Sends RTP on `track` while it is open and `closed()` is false; PLI/FIR about it become keyframe requests until then. */
export function outgoingTrack(track: NdcTrack, kind: MediaKind, ssrc: number, { mimeType, payloadType, clockRate }: Codec, closed: () => boolean): OutgoingTrack {
  const keyframeListeners: (() => void)[] = [];
  // RTCP from the remote about this SSRC arrives as the track's messages.
  track.onMessage((msg) => {
    if (!closed() && isRtcp(msg) && asksKeyframe(parseRtcp(msg))) for (const l of keyframeListeners) l();
  });
  return {
    kind,
    ssrc,
    codec: { mimeType, payloadType, clockRate },
    send: (packet) => {
      if (!closed() && track.isOpen()) track.sendMessageBinary(packet);
    },
    onKeyframeRequest: (listener) => keyframeListeners.push(listener),
  };
}
