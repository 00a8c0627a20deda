/**
 * The frames of in-band signaling on a connection's control channel (docs/protocol/rendezvous.md
 * §14.6): one UTF-8 JSON text message per frame, either a peer-connection signal of §12.1
 * exactly as it travels through any signaler, or an error answering a frame that was
 * refused. Decoding validates every field, so nothing malformed reaches the negotiation.
 * @internal
 */
import type { RtcSignal } from '../peer/signals.js';
import { SignalingError } from './errors.js';
import { MAX_IN_BAND_FRAME_BYTES } from '../defaults.js';

/** Sent back for a refused frame; never answered itself, so two peers cannot loop. */
export interface InBandErrorFrame {
  pinhole: 'error';
  code: 'bad-payload';
  message: string;
}

export type InBandFrame = RtcSignal | InBandErrorFrame;

function bad(what: string): SignalingError {
  return new SignalingError('bad-payload', `in-band frame: ${what}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optional = (v: unknown, type: 'string' | 'number'): boolean => v === undefined || v === null || typeof v === type;

/** Parses one control-channel message; throws a `bad-payload` SignalingError saying what is wrong. */
export function decodeInBand(message: unknown, gen: number): InBandFrame {
  if (typeof message !== 'string') throw bad('binary messages are not in-band signals (text JSON only)');
  const size = byteLength(message);
  if (size > MAX_IN_BAND_FRAME_BYTES) throw bad(`${size} bytes is over ${MAX_IN_BAND_FRAME_BYTES}`);
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    throw bad('not JSON');
  }
  if (!isObject(value)) throw bad('not a JSON object');
  if (value.pinhole === 'error') {
    if (typeof value.message !== 'string') throw bad('an error frame without a "message"');
    return { pinhole: 'error', code: 'bad-payload', message: value.message.slice(0, 500) };
  }
  if (value.pinhole !== 'rtc') throw bad(`"pinhole" is ${JSON.stringify(value.pinhole)}, not "rtc" or "error"`);
  // A signal of another generation would replace (or address) another RTCPeerConnection than
  // the one whose channel carried it: the sender's side of this channel is at `gen`.
  if (value.gen !== gen) throw bad(`"gen" ${JSON.stringify(value.gen)} is not this connection's generation ${gen}`);
  const fields = ['description', 'candidate', 'restart'].filter((k) => k in value);
  if (fields.length !== 1) throw bad('needs exactly one of "description", "candidate", "restart"');
  if ('description' in value) {
    const d = value.description;
    if (!isObject(d) || (d.type !== 'offer' && d.type !== 'answer') || typeof d.sdp !== 'string' || !d.sdp.startsWith('v=0')) {
      throw bad('"description" is not {type: "offer"|"answer", sdp}');
    }
    if (value.setup !== undefined && value.setup !== 'active') throw bad('"setup" is not "active"');
    return { pinhole: 'rtc', gen, description: { type: d.type, sdp: d.sdp }, ...(value.setup === 'active' ? { setup: 'active' as const } : {}) };
  }
  if ('candidate' in value) {
    const c = value.candidate;
    if (c === null) return { pinhole: 'rtc', gen, candidate: null };
    if (!isObject(c) || typeof c.candidate !== 'string' || !optional(c.sdpMid, 'string') || !optional(c.sdpMLineIndex, 'number') || !optional(c.usernameFragment, 'string')) {
      throw bad('"candidate" is not null or {candidate, sdpMid, sdpMLineIndex, usernameFragment}');
    }
    return {
      pinhole: 'rtc',
      gen,
      candidate: {
        candidate: c.candidate,
        sdpMid: (c.sdpMid as string | null | undefined) ?? null,
        sdpMLineIndex: (c.sdpMLineIndex as number | null | undefined) ?? null,
        usernameFragment: (c.usernameFragment as string | null | undefined) ?? null,
      },
    };
  }
  if (value.restart !== 'ice' && value.restart !== 'rebuild') throw bad('"restart" is not "ice" or "rebuild"');
  return { pinhole: 'rtc', gen, restart: value.restart };
}

export function byteLength(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}

export function encodeInBandError(err: SignalingError): string {
  const frame: InBandErrorFrame = { pinhole: 'error', code: 'bad-payload', message: err.message };
  return JSON.stringify(frame);
}
