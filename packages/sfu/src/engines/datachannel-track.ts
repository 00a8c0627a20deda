/** A libdatachannel send track as the core's OutgoingTrack: subscribers' and viewers' alike. */
import type nodeDataChannel from 'node-datachannel';
import type { Codec, MediaKind, OutgoingTrack } from '../engine.js';
import { readRemb } from '../remb.js';
import { asksKeyframe, isRtcp, parseRtcp } from './common.js';

type NdcTrack = ReturnType<InstanceType<typeof nodeDataChannel.PeerConnection>['addTrack']>;

/** Sends RTP on `track` while it is open and `closed()` is false; until then PLI/FIR about it become keyframe requests, REMB estimates. */
export function outgoingTrack(track: NdcTrack, kind: MediaKind, ssrc: number, { mimeType, payloadType, clockRate }: Codec, closed: () => boolean): OutgoingTrack {
  const keyframeListeners: (() => void)[] = [];
  const estimateListeners: ((bitrate: number) => void)[] = [];
  let open = false;
  // RTCP from the remote about this SSRC arrives as the track's messages (libdatachannel routes
  // a compound packet to each track whose SSRC it names, e.g. in its receiver report blocks).
  track.onMessage((msg) => {
    if (closed() || !isRtcp(msg)) return;
    if (asksKeyframe(parseRtcp(msg))) for (const l of keyframeListeners) l();
    const remb = readRemb(msg);
    if (remb) for (const l of estimateListeners) l(remb.bitrate);
  });
  return {
    kind,
    ssrc,
    codec: { mimeType, payloadType, clockRate },
    send: (packet) => {
      if (closed()) return;
      // isOpen() is a native call (a lock) per packet per subscriber: asked only until the
      // track opens, and again after a send throws (libdatachannel throws on a track that is
      // not open or closed).
      if (!open && !(open = track.isOpen())) return;
      try {
        track.sendMessageBinary(packet);
      } catch {
        open = false;
      }
    },
    onKeyframeRequest: (listener) => keyframeListeners.push(listener),
    onBitrateEstimate: (listener) => estimateListeners.push(listener),
  };
}
