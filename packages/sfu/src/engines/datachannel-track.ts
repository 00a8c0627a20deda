/** A libdatachannel send track as the core's OutgoingTrack: subscribers' and viewers' alike. */
import type nodeDataChannel from 'node-datachannel';
import type { Codec, MediaKind, OutgoingTrack } from '../engine.js';
import { readNacks, RtpHistory } from '../nack.js';
import { readRemb } from '../remb.js';
import { asksKeyframe, isRtcp, parseRtcp } from './common.js';

type NdcTrack = ReturnType<InstanceType<typeof nodeDataChannel.PeerConnection>['addTrack']>;

/**
 * Packets of each video track kept for retransmission (RtpHistory). At 1.5 Mbit/s (about 150
 * packets/s) that is 1.7 s, several NACK round trips; 384 kB of slots per video track (1,500 bytes each).
 */
export const NACK_HISTORY_PACKETS = 256;

/**
 * Sends RTP on `track` while it is open and `closed()` is false; until then PLI/FIR about it
 * become keyframe requests, REMB estimates, and Generic NACKs about its SSRC resend the
 * packets asked for from its history — plain retransmission (RFC 4585 §6.2.1), the same
 * packets, same SSRC and sequence numbers, no RTX stream. Audio keeps no history: Opus is not
 * offered with `nack`, and its receivers conceal a loss instead.
 *
 * Not libdatachannel's own RtcpNackResponder, although it works on sendMessageBinary's
 * packets: it answers every NACK in a compound RTCP packet routed to its track, whatever SSRC
 * the NACK names, and libdatachannel routes a compound packet to every track it names (in
 * receiver report blocks too, as Chromium sends them). With two video tracks, a receiver
 * report about both and a NACK about one made the other track resend its own packets of the
 * same sequence numbers too: duplicates, on a track that lost nothing.
 */
export function outgoingTrack(track: NdcTrack, kind: MediaKind, ssrc: number, { mimeType, payloadType, clockRate }: Codec, closed: () => boolean): OutgoingTrack {
  const history = kind === 'video' ? new RtpHistory(NACK_HISTORY_PACKETS) : undefined;
  const keyframeListeners: (() => void)[] = [];
  const estimateListeners: ((bitrate: number) => void)[] = [];
  const nackListeners: ((requested: number, resent: number) => void)[] = [];
  // isOpen() is a native call (a lock): asked only until the track opens, and again after a
  // send throws (libdatachannel throws on a track that is not open, or closed). Per packet
  // per subscriber this is the hot path (docs/architecture.md, Media server, "Hot path").
  let opened = false;
  const open = (): boolean => !closed() && (opened || (opened = track.isOpen()));
  const send = (packet: Buffer): boolean => {
    try {
      track.sendMessageBinary(packet);
      return true;
    } catch {
      opened = false;
      return false;
    }
  };
  // RTCP from the remote about this SSRC arrives as the track's messages (libdatachannel routes
  // a compound packet to each track whose SSRC it names, e.g. in its receiver report blocks).
  track.onMessage((msg) => {
    if (closed() || !isRtcp(msg)) return;
    if (asksKeyframe(parseRtcp(msg))) for (const l of keyframeListeners) l();
    const remb = readRemb(msg);
    if (remb) for (const l of estimateListeners) l(remb.bitrate);
    const lost = readNacks(msg, ssrc);
    if (lost.length === 0) return;
    let resent = 0;
    for (const seq of lost) {
      const packet = history?.get(seq);
      if (packet && open() && send(packet)) resent++;
    }
    for (const l of nackListeners) l(lost.length, resent);
  });
  return {
    kind,
    ssrc,
    codec: { mimeType, payloadType, clockRate },
    send: (packet) => {
      // `packet` is lent for this call only (OutgoingTrack.send): the history copies it.
      if (open() && send(packet)) history?.store(packet);
    },
    onKeyframeRequest: (listener) => keyframeListeners.push(listener),
    onBitrateEstimate: (listener) => estimateListeners.push(listener),
    onNack: (listener) => nackListeners.push(listener),
  };
}
