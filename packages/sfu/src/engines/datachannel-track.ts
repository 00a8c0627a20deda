/** A libdatachannel send track as the core's OutgoingTrack: subscribers' and viewers' alike. */
import nodeDataChannel from 'node-datachannel';
import type { Codec, MediaKind, OutgoingTrack } from '../engine.js';
import { readRemb } from '../remb.js';
import { seqNewer } from '../rewriter.js';
import { readNacks } from '../nack.js';
import { asksKeyframe, isRtcp, parseRtcp } from './common.js';

type NdcTrack = ReturnType<InstanceType<typeof nodeDataChannel.PeerConnection>['addTrack']>;

/**
 * Packets of each video track kept for retransmission: libdatachannel's RtcpNackResponder
 * holds the last this many sent. At 1.5 Mbit/s (about 150 packets/s) that is 1.7 s, several
 * NACK round trips; about 300 kB of packets per video track.
 */
export const NACK_HISTORY_PACKETS = 256;

/**
 * Sends RTP on `track` while it is open and `closed()` is false; until then PLI/FIR about it
 * become keyframe requests, REMB estimates, Generic NACKs counted retransmissions.
 *
 * Video is resent on NACK by libdatachannel's own RtcpNackResponder (C++, no JS per packet):
 * every packet sendMessageBinary sends passes through the track's media handler, which keeps
 * the last NACK_HISTORY_PACKETS and answers a NACK with the stored copies — plain
 * retransmission (RFC 4585 §6.2.1), same SSRC and sequence numbers, no RTX stream. Audio has
 * no responder: Opus is not offered with `nack`, and its receivers conceal a loss instead.
 */
export function outgoingTrack(track: NdcTrack, kind: MediaKind, ssrc: number, { mimeType, payloadType, clockRate }: Codec, closed: () => boolean): OutgoingTrack {
  const history = kind === 'video' ? NACK_HISTORY_PACKETS : 0;
  if (history > 0) track.setMediaHandler(new nodeDataChannel.RtcpNackResponder(history));
  // The responder's window, followed here only to count what it resends: the last sequence
  // number sent and how many were sent (the history holds the last `history` of them).
  let lastSeq = 0;
  let sent = 0;
  const keyframeListeners: (() => void)[] = [];
  const estimateListeners: ((bitrate: number) => void)[] = [];
  const nackListeners: ((requested: number, resent: number) => void)[] = [];
  // RTCP from the remote about this SSRC arrives as the track's messages (libdatachannel routes
  // a compound packet to each track whose SSRC it names, e.g. in its receiver report blocks).
  track.onMessage((msg) => {
    if (closed() || !isRtcp(msg)) return;
    const rtcp = parseRtcp(msg);
    if (asksKeyframe(rtcp)) for (const l of keyframeListeners) l();
    const remb = readRemb(msg);
    if (remb) for (const l of estimateListeners) l(remb.bitrate);
    const lost = readNacks(msg, ssrc);
    if (lost.length > 0) {
      const held = Math.min(history, sent);
      const resent = lost.filter((seq) => ((lastSeq - seq) & 0xffff) < held).length;
      for (const l of nackListeners) l(lost.length, resent);
    }
  });
  return {
    kind,
    ssrc,
    codec: { mimeType, payloadType, clockRate },
    send: (packet) => {
      if (closed() || !track.isOpen()) return;
      track.sendMessageBinary(packet);
      const seq = packet.readUInt16BE(2);
      if (sent++ === 0 || seqNewer(seq, lastSeq)) lastSeq = seq;
    },
    onKeyframeRequest: (listener) => keyframeListeners.push(listener),
    onBitrateEstimate: (listener) => estimateListeners.push(listener),
    onNack: (listener) => nackListeners.push(listener),
  };
}
