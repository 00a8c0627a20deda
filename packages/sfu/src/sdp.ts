/** What a publisher's offer announces: its media sections, with their simulcast layers. */
import { SessionDescription } from 'werift';
import { SfuError, type MediaKind } from './engine.js';
import { AUDIO_LEVEL_URI } from './audio-level.js';
import { OFFERED } from './engines/common.js';

export interface OfferedTrack {
  mid: string;
  kind: MediaKind;
  /** RIDs the publisher sends (a=simulcast:send, RFC 8853), in the offer's order; empty without simulcast. */
  rids: string[];
  /** The header extension id of RFC 6464 audio levels (`a=extmap:N urn:ietf:params:rtp-hdrext:ssrc-audio-level`), if offered. */
  audioLevelId: number | undefined;
}

/** Media sections that send audio or video (sendonly / sendrecv); data channels and recvonly sections are not publications. */
export function describeOffer(sdp: string): OfferedTrack[] {
  let parsed: SessionDescription;
  try {
    parsed = SessionDescription.parse(sdp);
  } catch (err) {
    throw new SfuError('bad-sdp', `offer does not parse: ${(err as Error).message}`);
  }
  const tracks: OfferedTrack[] = [];
  for (const media of parsed.media) {
    if (media.kind !== 'audio' && media.kind !== 'video') continue;
    if (media.direction !== 'sendonly' && media.direction !== 'sendrecv') continue;
    const mid = media.rtp.muxId;
    if (mid === undefined) throw new SfuError('bad-sdp', 'media section without a=mid (BUNDLE needs one)');
    const codecs = media.rtp.codecs.map((c) => c.mimeType);
    if (!codecs.some((c) => OFFERED[c.toLowerCase()]?.kind === media.kind)) {
      const forwarded = Object.values(OFFERED).filter((c) => c.kind === media.kind).map((c) => c.mimeType.split('/')[1]);
      throw new SfuError('unsupported-codec', `${media.kind} section ${mid} offers ${codecs.join(', ') || 'no codec'}; the SFU forwards ${forwarded.join(', ')}`);
    }
    const rids = media.simulcastParameters.filter((p) => p.direction === 'send').map((p) => p.rid);
    const audioLevelId = media.kind === 'audio' ? media.rtp.headerExtensions.find((e) => e.uri === AUDIO_LEVEL_URI)?.id : undefined;
    tracks.push({ mid, kind: media.kind, rids, audioLevelId });
  }
  if (tracks.length === 0) throw new SfuError('bad-sdp', 'offer sends no audio or video');
  return tracks;
}
