/**
 * Wire format of a file transfer. Each transfer has its own reliable, ordered
 * RTCDataChannel labelled `pinhole-file:<id>`, created by the sender (again after every
 * host reset, with the same label). String messages are JSON control messages; binary
 * messages are file bytes, each continuing where the previous one ended, starting at the
 * offset of the last `accept`.
 *
 *   sender → receiver   offer   {t, v, id, name, size, type?, meta?, chunk}  first message on every channel
 *                       end     {t, size, sha256}                             after the last byte
 *   receiver → sender   accept  {t, offset}   go on from offset (0 first; the durable offset on resume)
 *                       reject  {t, reason?}
 *                       ack     {t, offset}   bytes below offset are written to the sink
 *                       done    {t, sha256}   digest verified, file complete
 *   either              cancel  {t, reason?}
 *                       error   {t, code, message}
 *
 * The receiver of cancel, reject, done or error closes the channel.
 */
import { MAX_CONTROL_BYTES } from '../defaults.js';
import { DataError } from './errors.js';

export const TRANSFER_VERSION = 1;

export interface OfferMessage {
  t: 'offer';
  v: number;
  id: string;
  name: string;
  size: number;
  type?: string;
  meta?: unknown;
  /** Chunk size the sender uses (informational; the receiver checks only the total). */
  chunk: number;
}
export type ControlMessage =
  | OfferMessage
  | { t: 'end'; size: number; sha256: string }
  | { t: 'accept'; offset: number }
  | { t: 'reject'; reason?: string }
  | { t: 'ack'; offset: number }
  | { t: 'done'; sha256: string }
  | { t: 'cancel'; reason?: string }
  | { t: 'error'; code: string; message: string };

/** Messages after which a transfer is over on both sides. */
export type FinalMessage = Extract<ControlMessage, { t: 'reject' | 'done' | 'cancel' | 'error' }>;
export function isFinal(msg: ControlMessage): msg is FinalMessage {
  return msg.t === 'reject' || msg.t === 'done' || msg.t === 'cancel' || msg.t === 'error';
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** Parses and validates one control message; throws DataError `bad-message`. */
export function parseControl(text: string): ControlMessage {
  if (text.length > MAX_CONTROL_BYTES) throw bad(`control message of ${text.length} chars exceeds MAX_CONTROL_BYTES`);
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw bad('control message is not JSON', err);
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw bad('control message is not an object');
  switch (m.t) {
    case 'offer':
      if (!isCount(m.v) || typeof m.id !== 'string' || !ID.test(m.id)) throw bad('offer: bad v or id');
      if (typeof m.name !== 'string' || m.name.length > 1024) throw bad('offer: bad name');
      if (!isCount(m.size) || !isCount(m.chunk) || m.chunk === 0) throw bad('offer: bad size or chunk');
      if (m.type !== undefined && typeof m.type !== 'string') throw bad('offer: bad type');
      return { t: 'offer', v: m.v, id: m.id, name: m.name, size: m.size, chunk: m.chunk, type: m.type, meta: m.meta };
    case 'end':
      if (!isCount(m.size) || typeof m.sha256 !== 'string' || !HEX64.test(m.sha256)) throw bad('end: bad size or sha256');
      return { t: 'end', size: m.size, sha256: m.sha256 };
    case 'accept':
    case 'ack':
      if (!isCount(m.offset)) throw bad(`${m.t}: bad offset`);
      return { t: m.t, offset: m.offset };
    case 'done':
      if (typeof m.sha256 !== 'string' || !HEX64.test(m.sha256)) throw bad('done: bad sha256');
      return { t: 'done', sha256: m.sha256 };
    case 'reject':
    case 'cancel':
      return { t: m.t, reason: typeof m.reason === 'string' ? m.reason.slice(0, 1024) : undefined };
    case 'error':
      return { t: 'error', code: String(m.code).slice(0, 64), message: String(m.message).slice(0, 1024) };
    default:
      throw bad(`unknown control message ${JSON.stringify(String(m.t).slice(0, 32))}`);
  }
}

/**
 * Encodes an offer, checked by the receiver's own parser so that the sender learns at
 * `send` (DataError `bad-value`) what the receiver would refuse: a name over 1024
 * characters, a meta that is not JSON or makes the message exceed MAX_CONTROL_BYTES.
 */
export function encodeOffer(offer: OfferMessage): string {
  let text: string;
  try {
    text = JSON.stringify(offer);
  } catch (err) {
    throw new DataError('bad-value', 'file offer: meta is not JSON-serialisable', { cause: err });
  }
  try {
    parseControl(text);
  } catch (err) {
    throw new DataError('bad-value', `file offer would be refused by the receiver: ${(err as Error).message}`, { cause: err });
  }
  return text;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function bad(message: string, cause?: unknown): DataError {
  return new DataError('bad-message', message, { cause });
}

/** A random transfer id (128 bits, hex). */
export function newTransferId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
