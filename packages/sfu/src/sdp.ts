/** What a publisher's offer announces: its media sections, with their simulcast layers. */
import { SessionDescription } from 'werift';
import { SfuError, type IceCandidate, type MediaKind } from './engine.js';
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

/**
 * Media sections that send audio or video (sendonly / sendrecv, port ≠ 0); data channels,
 * recvonly and stopped sections are not publications. A `bundle-only` section on port 0 is
 * live (acceptBundleOnly): GStreamer offers its audio so.
 */
export function describeOffer(sdp: string): OfferedTrack[] {
  let parsed: SessionDescription;
  try {
    parsed = SessionDescription.parse(acceptBundleOnly(sdp));
  } catch (err) {
    throw new SfuError('bad-sdp', `offer does not parse: ${(err as Error).message}`);
  }
  const tracks: OfferedTrack[] = [];
  for (const media of parsed.media) {
    if (media.kind !== 'audio' && media.kind !== 'video') continue;
    if (media.direction !== 'sendonly' && media.direction !== 'sendrecv') continue;
    // Port 0: a section rejected or stopped (RFC 8843 §7.3; a stopped transceiver in a later offer).
    if (media.port === 0) continue;
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

/**
 * The offer with every `a=bundle-only` media section on port 9 instead of 0. JSEP (RFC 9429
 * §5.2.1) offers those on port 0 — GStreamer's webrtcbin with `bundle-policy=max-bundle` does,
 * for each section after the first — meaning "only within the BUNDLE group", not "rejected";
 * werift takes port 0 as rejected and never announces the section's track, so its media was lost.
 */
export function acceptBundleOnly(sdp: string): string {
  const sections = sdp.split(/(?=^m=)/m);
  return sections
    .map((section) => (section.startsWith('m=') && /^a=bundle-only\r?$/m.test(section) ? section.replace(/^(m=\S+) 0 /, '$1 9 ') : section))
    .join('');
}

/**
 * The offer with every section of its BUNDLE group on the offerer-tagged section's ICE
 * transport (RFC 8843 §7.2.1: the first MID of the group): its `a=ice-ufrag` and `a=ice-pwd` in
 * every bundled section, and the other sections' own candidates dropped. Browsers offer one
 * transport already; aiortc gives each section its own credentials, and werift, which applies
 * each section's in turn to the one bundled transport, would answer checks with the last
 * section's while the client expects the first's: the connection never left `connecting`.
 */
export function oneBundleTransport(sdp: string): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const [head = '', ...sections] = sdp.split(/(?=^m=)/m);
  const group = /^a=group:BUNDLE (.+?)\r?$/m.exec(head)?.[1]?.trim().split(/\s+/) ?? [];
  if (group.length < 2) return sdp;
  const midOf = (section: string): string | undefined => /^a=mid:(\S+)/m.exec(section)?.[1];
  const tagged = sections.find((section) => midOf(section) === group[0]);
  const ufrag = tagged && /^a=ice-ufrag:.*$/m.exec(tagged)?.[0]?.replace(/\r$/, '');
  const pwd = tagged && /^a=ice-pwd:.*$/m.exec(tagged)?.[0]?.replace(/\r$/, '');
  if (!tagged || !ufrag || !pwd) return sdp;
  const rest = sections.map((section) => {
    const mid = midOf(section);
    if (section === tagged || mid === undefined || !group.includes(mid)) return section;
    return section
      .split(eol)
      .filter((line) => !line.startsWith('a=candidate:') && line !== 'a=end-of-candidates')
      .map((line) => (line.startsWith('a=ice-ufrag:') ? ufrag : line.startsWith('a=ice-pwd:') ? pwd : line))
      .join(eol);
  });
  return head + rest.join('');
}

/**
 * Splits an offer into the SDP without its candidates (`a=candidate`, `a=end-of-candidates`)
 * and those candidates, each with the MID of its media section: the subscriber offer's trickle
 * (engine.ts). The session-level lines and everything else stay as they are.
 */
export function holdBackCandidates(sdp: string): { sdp: string; candidates: IceCandidate[] } {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const kept: string[] = [];
  const held: { candidate: string; section: number }[] = [];
  const mids: string[] = [];
  let section = -1;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) section++;
    if (section >= 0 && line.startsWith('a=mid:')) mids[section] = line.slice('a=mid:'.length).trim();
    if (line.startsWith('a=candidate:')) held.push({ candidate: line.slice('a='.length).trim(), section });
    else if (line !== 'a=end-of-candidates') kept.push(line);
  }
  const candidates = held.map(({ candidate, section: s }) => {
    const sdpMid = mids[Math.max(s, 0)];
    if (sdpMid === undefined) throw new SfuError('bad-sdp', 'a candidate outside a media section with a=mid');
    return { candidate, sdpMid };
  });
  return { sdp: kept.join(eol), candidates };
}

/** A codec as a media section lists it. */
export interface SectionCodec {
  mimeType: string;
  payloadType: number;
  clockRate: number;
  parameters?: string | undefined;
}

/** An audio or video section of a viewer's offer (WHEP: recvonly). */
export interface ViewerSection {
  mid: string;
  kind: MediaKind;
  /** The viewer receives on it (recvonly or sendrecv). */
  receives: boolean;
  codecs: SectionCodec[];
}

/** The audio and video sections of a viewer's offer, in order. Throws SfuError `bad-sdp`. */
export function describeViewerOffer(sdp: string): ViewerSection[] {
  let parsed: SessionDescription;
  try {
    parsed = SessionDescription.parse(sdp);
  } catch (err) {
    throw new SfuError('bad-sdp', `viewer offer does not parse: ${(err as Error).message}`);
  }
  const sections: ViewerSection[] = [];
  for (const media of parsed.media) {
    if (media.kind !== 'audio' && media.kind !== 'video') continue;
    const mid = media.rtp.muxId;
    if (mid === undefined) throw new SfuError('bad-sdp', 'media section without a=mid (BUNDLE needs one)');
    const receives = media.direction === 'recvonly' || media.direction === 'sendrecv';
    const codecs = media.rtp.codecs.map((c) => ({ mimeType: c.mimeType, payloadType: c.payloadType, clockRate: c.clockRate, parameters: c.parameters }));
    sections.push({ mid, kind: media.kind, receives, codecs });
  }
  if (sections.length === 0) throw new SfuError('bad-sdp', 'viewer offer has no audio or video section');
  return sections;
}

const H264_MODE_1 = /packetization-mode=1/;

/** The section's codec for `mimeType`: for H.264 the first with packetization-mode=1 (what browsers send), else the first. */
export function pickCodec<C extends { mimeType: string; parameters?: string | undefined }>(codecs: readonly C[], mimeType: string): C | undefined {
  const same = codecs.filter((c) => c.mimeType.toLowerCase() === mimeType.toLowerCase());
  if (mimeType.toLowerCase() === 'video/h264') return same.find((c) => H264_MODE_1.test(c.parameters ?? '')) ?? same[0];
  return same[0];
}

/**
 * Gives each wanted track (in order) the first unused section of its kind that receives and
 * lists the track's codec: the section's index and codec, or undefined where none fits.
 */
export function assignSections<C extends { mimeType: string; parameters?: string | undefined }>(
  sections: readonly { kind: string; receives: boolean; codecs: readonly C[] }[],
  wanted: readonly { kind: MediaKind; mimeType: string }[],
): ({ section: number; codec: C } | undefined)[] {
  const used = new Set<number>();
  return wanted.map((w) => {
    const section = sections.findIndex((s, i) => !used.has(i) && s.receives && s.kind === w.kind && pickCodec(s.codecs, w.mimeType) !== undefined);
    if (section < 0) return undefined;
    used.add(section);
    return { section, codec: pickCodec(sections[section]!.codecs, w.mimeType)! };
  });
}

/**
 * werift answers a section the offer stopped (port 0: a transceiver stopped, RFC 8843 §7.3)
 * with a live port and keeps its MID in the answer's BUNDLE group, which Chromium refuses
 * ("A BUNDLE group in answer contains a MID … that was not in the offered group"). This puts
 * such sections at port 0 and out of the group, as RFC 8843 §7.3.3 asks of an answerer.
 */
export function rejectStoppedSections(offerSdp: string, answerSdp: string): string {
  const stopped = new Set<string>();
  for (const section of offerSdp.split(/\r?\nm=/).slice(1)) {
    const mid = /\r?\na=mid:(\S+)/.exec(section)?.[1];
    if (mid !== undefined && /^\S+ 0 /.test(section)) stopped.add(mid);
  }
  if (stopped.size === 0) return answerSdp;
  const eol = answerSdp.includes('\r\n') ? '\r\n' : '\n';
  const [head, ...sections] = answerSdp.split(/\r?\nm=/);
  const bundled = head!.replace(/^a=group:BUNDLE (.*)$/m, (_line, mids: string) => `a=group:BUNDLE ${mids.split(' ').filter((m) => !stopped.has(m)).join(' ')}`);
  const rest = sections.map((section) => {
    const mid = /\r?\na=mid:(\S+)/.exec(section)?.[1];
    return mid !== undefined && stopped.has(mid) ? section.replace(/^(\S+) \d+ /, '$1 0 ') : section;
  });
  return [bundled, ...rest].join(`${eol}m=`);
}
