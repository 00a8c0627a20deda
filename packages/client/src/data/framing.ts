/**
 * Wire format of named channels. Binary messages travel as they are (no copy, no header);
 * string messages carry a one-character kind tag so the receiver gets back what was sent:
 *
 *   'j' + JSON text   a JSON value          (kind 'json')
 *   't' + text        a string              (kind 'text')
 *   'c'               the sender closed the channel on purpose (not a connection loss)
 *
 * Any other first character is reserved; such a frame is reported as `bad-message` and
 * dropped.
 */
import type { Json } from '@pinhole/protocol';
import { MAX_MESSAGE_BYTES } from '../defaults.js';
import { DataError } from './errors.js';

export type MessageKind = 'json' | 'text' | 'binary';

/**
 * What `send` accepts: a string, bytes, or a JSON-serialisable value (checked when sent:
 * JSON.stringify must succeed; objects are as loose as JSON.stringify is).
 */
export type Sendable = string | ArrayBuffer | ArrayBufferView | Json | readonly unknown[] | { readonly [key: string]: unknown };

/** What a 'message' event carries: binary data always arrives as a Uint8Array. */
export type ChannelMessage =
  | { kind: 'json'; data: unknown }
  | { kind: 'text'; data: string }
  | { kind: 'binary'; data: Uint8Array };

export type Frame = ChannelMessage | { kind: 'bye' };

export const BYE_FRAME = 'c';

/**
 * Encodes a message. `kind` is inferred (string → text, bytes → binary, else JSON) unless
 * given: `{ kind: 'json' }` sends a string as a JSON value. Throws `message-too-large` past
 * `limit` bytes (messageLimit of the host: the peer's a=max-message-size, at most MAX_MESSAGE_BYTES).
 */
export function encodeMessage(data: Sendable, kind?: MessageKind, limit = MAX_MESSAGE_BYTES): string | Uint8Array {
  if (kind !== 'json' && typeof data === 'string') return checkSize('t' + data, limit);
  if (kind !== 'json' && data instanceof ArrayBuffer) return checkBytes(new Uint8Array(data), limit);
  if (kind !== 'json' && ArrayBuffer.isView(data)) {
    return checkBytes(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), limit);
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (err) {
    throw new DataError('bad-value', `cannot encode as JSON: ${(err as Error).message}`, { cause: err });
  }
  if (json === undefined) throw new DataError('bad-value', `cannot encode ${typeof data} as JSON`);
  return checkSize('j' + json, limit);
}

export function decodeFrame(data: unknown): Frame {
  if (data instanceof ArrayBuffer) return { kind: 'binary', data: new Uint8Array(data) };
  if (ArrayBuffer.isView(data)) return { kind: 'binary', data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  if (typeof data !== 'string') throw new DataError('bad-message', 'frame is neither text nor binary');
  const tag = data.charCodeAt(0);
  if (tag === 0x74 /* t */) return { kind: 'text', data: data.slice(1) };
  if (tag === 0x6a /* j */) {
    try {
      return { kind: 'json', data: JSON.parse(data.slice(1)) as unknown };
    } catch (err) {
      throw new DataError('bad-message', 'JSON frame does not parse', { cause: err });
    }
  }
  if (data === BYE_FRAME) return { kind: 'bye' };
  throw new DataError('bad-message', `unknown frame tag ${JSON.stringify(data.slice(0, 1))}`);
}

/** Byte length of a frame as it will be buffered (strings as UTF-8). */
export function frameBytes(frame: string | Uint8Array): number {
  return typeof frame === 'string' ? utf8Length(frame) : frame.byteLength;
}

function checkSize(frame: string, limit: number): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes: only count exactly when it might be too big.
  if (frame.length * 3 > limit && utf8Length(frame) > limit) throw tooLarge(utf8Length(frame), limit);
  return frame;
}

function checkBytes(bytes: Uint8Array, limit: number): Uint8Array {
  if (bytes.byteLength > limit) throw tooLarge(bytes.byteLength, limit);
  return bytes;
}

function tooLarge(n: number, limit: number): DataError {
  const why = limit < MAX_MESSAGE_BYTES ? "the peer's a=max-message-size" : 'MAX_MESSAGE_BYTES';
  return new DataError('message-too-large', `message of ${n} bytes exceeds ${limit} (${why})`);
}

/** UTF-8 byte length without encoding (lone surrogates count 3, as TextEncoder's U+FFFD). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
