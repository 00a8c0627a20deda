/**
 * The `pinhole:sfu-*` messages between a member and the media server (docs/protocol/sfu.md
 * §15): requests go as `signal`s to the SFU's peer id, replies come back as `signal`s, and
 * `pinhole:sfu-tracks` as a `broadcast` to the room.
 */
import type { Json } from '@pinhole/protocol';

/** One media section of our subscriber session: whose track it carries. */
export interface SfuSection {
  /** The section's mid in the SFU's offer (our transceiver's mid). */
  mid: string;
  /** The publisher's peer id (or a WHIP resource id). */
  publisher: string;
  kind: 'audio' | 'video';
  /** The publisher's own mid of that track. */
  trackMid: string;
}

export interface SfuTrackInfo {
  mid: string;
  kind: 'audio' | 'video';
  rids: string[];
}

export type SfuMessage =
  | { type: 'pinhole:sfu-answer'; sdp: string }
  | { type: 'pinhole:sfu-offer'; sdp: string; tracks: SfuSection[] }
  | { type: 'pinhole:sfu-candidates'; candidates: RTCIceCandidateInit[] }
  | { type: 'pinhole:sfu-tracks'; publisher: string; tracks: SfuTrackInfo[]; name?: string }
  | { type: 'pinhole:sfu-speaker'; publisher: string | null }
  | { type: 'pinhole:sfu-error'; code: string; message: string; request?: string; publisher?: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isKind = (v: unknown): v is 'audio' | 'video' => v === 'audio' || v === 'video';

function isSection(v: unknown): v is SfuSection {
  return isObject(v) && isString(v['mid']) && isString(v['publisher']) && isKind(v['kind']) && isString(v['trackMid']);
}

function isTrackInfo(v: unknown): v is SfuTrackInfo {
  return isObject(v) && isString(v['mid']) && isKind(v['kind']) && Array.isArray(v['rids']) && v['rids'].every(isString);
}

function isCandidate(v: unknown): v is RTCIceCandidateInit {
  return isObject(v) && isString(v['candidate']);
}

/** Whether `data` is a message the SDK understands from the SFU (anything else is ignored). */
export function asSfuMessage(data: Json): SfuMessage | undefined {
  if (!isObject(data)) return undefined;
  switch (data['type']) {
    case 'pinhole:sfu-answer':
      return isString(data['sdp']) ? (data as SfuMessage) : undefined;
    case 'pinhole:sfu-offer':
      return isString(data['sdp']) && Array.isArray(data['tracks']) && data['tracks'].every(isSection) ? (data as SfuMessage) : undefined;
    case 'pinhole:sfu-candidates':
      return Array.isArray(data['candidates']) && data['candidates'].every(isCandidate) ? (data as SfuMessage) : undefined;
    case 'pinhole:sfu-tracks':
      return isString(data['publisher']) && Array.isArray(data['tracks']) && data['tracks'].every(isTrackInfo) ? (data as SfuMessage) : undefined;
    case 'pinhole:sfu-speaker':
      return isString(data['publisher']) || data['publisher'] === null ? (data as SfuMessage) : undefined;
    case 'pinhole:sfu-error':
      return isString(data['code']) && isString(data['message']) ? (data as SfuMessage) : undefined;
    default:
      return undefined;
  }
}

/**
 * Member to member (docs/protocol/peer.md §12.5): "all your tracks I get flow to me this way",
 * so that the sender can stop sending them the other way after a mesh ↔ SFU switch.
 */
export interface MediaNote {
  pinhole: 'media';
  via: 'mesh' | 'sfu';
}

export function isMediaNote(data: unknown): data is MediaNote {
  return isObject(data) && data['pinhole'] === 'media' && (data['via'] === 'mesh' || data['via'] === 'sfu');
}

/** Resolves once `pc` has gathered every candidate (the SFU takes none trickled: §15.3, §15.4). */
export function gathered(pc: RTCPeerConnection, timeoutMs = 10_000): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = (): void => void (pc.iceGatheringState === 'complete' && done());
    // Gathering can hang on an unreachable TURN server: what was gathered by then is sent.
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}
