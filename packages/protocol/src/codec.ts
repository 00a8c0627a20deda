import { ProtocolError } from './errors.js';
import type { ClientFrame, ClientFrameType, FrameId, ServerFrame } from './frames.js';

/** Room names: URL-safe, 1–128 characters, not only dots (they appear in REST paths). */
export const ROOM_NAME = /^(?!\.+$)[A-Za-z0-9_.~-]{1,128}$/;
/** Service kinds (a token's `svc` claim, presence's `service`): `sfu`, … */
export const SERVICE_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** Peer ids, session ids and keys are opaque strings of at most this length. */
export const MAX_ID_LENGTH = 64;
/**
 * How deeply a client frame may nest objects and arrays, the frame itself being level 1
 * (so `data` and `meta` may hold up to 63 levels). The hub encodes what it relays again,
 * and encoding recurses once per level: without a bound, one small frame nested thousands
 * deep exhausts the stack.
 */
export const MAX_FRAME_DEPTH = 64;
const ROOM_RULE = '"room" must match [A-Za-z0-9_.~-]{1,128} and not be only dots';

const CLIENT_TYPES: ReadonlySet<string> = new Set<ClientFrameType>([
  'hello',
  'join',
  'leave',
  'signal',
  'broadcast',
  'ack',
  'ping',
  'watch-rooms',
  'bye',
]);

export function isRoomName(value: unknown): value is string {
  return typeof value === 'string' && ROOM_NAME.test(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isFrameId(value: unknown): value is FrameId {
  return isShortString(value) || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1);
}

function isShortString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH;
}

/**
 * Decodes one client frame from text. Throws a ProtocolError with the wire code
 * (`too-large`, `bad-json`, `bad-frame`, `unknown-type`) on anything malformed.
 * `maxBytes` bounds the UTF-8 size; callers that already know the byte size pass it.
 */
export function decodeClientFrame(text: string, maxBytes: number, byteLength?: number): ClientFrame {
  const size = byteLength ?? (text.length * 3 <= maxBytes ? text.length : Buffer.byteLength(text));
  if (size > maxBytes) {
    throw new ProtocolError('too-large', `frame of ${size} bytes exceeds the limit of ${maxBytes}`, idOf(text));
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ProtocolError('bad-json', `frame is not valid JSON: ${(err as Error).message}`);
  }
  return validateClientFrame(value);
}

/** The valid `id` of a parsed value, if it has one (so a refusal can carry `ref`). */
export function frameIdOf(value: unknown): FrameId | undefined {
  const id = isPlainObject(value) ? value.id : undefined;
  return isFrameId(id) ? id : undefined;
}

/** Best effort: the id of an oversize frame, so its error can carry `ref` and consume the id. */
function idOf(text: string): FrameId | undefined {
  try {
    return frameIdOf(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/**
 * Whether `value` nests objects or arrays more than `levels` deep (`value` is level 1).
 * Only objects and arrays are visited (strings, the bulk of a frame, are not read), and
 * the recursion stops at `levels`, so it cannot be the one that exhausts the stack.
 */
function nestsDeeper(value: object, levels: number): boolean {
  if (Array.isArray(value)) {
    for (const item of value) if (childTooDeep(item, levels)) return true;
    return false;
  }
  for (const key in value) if (childTooDeep((value as Record<string, unknown>)[key], levels)) return true;
  return false;
}

/** A child of a value that may hold `levels` levels: too deep if it is an object or array and none are left. */
function childTooDeep(item: unknown, levels: number): boolean {
  return typeof item === 'object' && item !== null && (levels === 1 || nestsDeeper(item, levels - 1));
}

/**
 * Refuses a parsed frame (or REST body) nested deeper than `MAX_FRAME_DEPTH` with
 * `bad-frame`, carrying its id and type when they can be read, so the refusal consumes the id.
 */
export function checkFrameDepth(value: unknown): void {
  if (typeof value !== 'object' || value === null || !nestsDeeper(value, MAX_FRAME_DEPTH)) return;
  const type = (value as { type?: unknown }).type;
  throw new ProtocolError(
    'bad-frame',
    `frame nests objects and arrays more than ${MAX_FRAME_DEPTH} levels deep (the frame itself is level 1)`,
    frameIdOf(value),
    typeof type === 'string' ? type.slice(0, 32) : undefined,
  );
}

/**
 * Validates an already-parsed value as a client frame (also used for arrays posted over
 * HTTP). The depth check comes first: nothing else reads a frame that is too deep.
 */
export function validateClientFrame(value: unknown): ClientFrame {
  checkFrameDepth(value);
  if (!isPlainObject(value)) throw new ProtocolError('bad-frame', 'a frame must be a JSON object');
  const { type, id } = value;
  let ref: FrameId | undefined;
  if (id !== undefined) {
    if (!isFrameId(id)) throw new ProtocolError('bad-frame', '"id" must be a non-empty string (≤ 64 chars) or an integer ≥ 1');
    ref = id;
  }
  if (typeof type !== 'string') throw new ProtocolError('bad-frame', 'frame has no string "type"', ref);
  if (!CLIENT_TYPES.has(type)) throw new ProtocolError('unknown-type', `unknown frame type "${type.slice(0, 32)}"`, ref, type.slice(0, 32));
  const fail = (message: string): never => {
    throw new ProtocolError('bad-frame', `${type}: ${message}`, ref, type);
  };
  if (value.ack !== undefined && !isSeq(value.ack)) fail('"ack" must be a non-negative integer');
  switch (type as ClientFrameType) {
    case 'hello': {
      if (value.token !== undefined && typeof value.token !== 'string') fail('"token" must be a string');
      if (value.batch !== undefined && typeof value.batch !== 'boolean') fail('"batch" must be a boolean');
      const resume = value.resume;
      if (resume !== undefined) {
        if (!isPlainObject(resume)) fail('"resume" must be an object');
        const r = resume as Record<string, unknown>;
        if (!isShortString(r.session)) fail('"resume.session" must be a session id');
        if (!isShortString(r.key)) fail('"resume.key" must be a session key');
        if (!isSeq(r.lastSeq)) fail('"resume.lastSeq" must be a non-negative integer');
      }
      break;
    }
    case 'join':
      if (!isRoomName(value.room)) fail(ROOM_RULE);
      if (value.meta !== undefined && !isPlainObject(value.meta)) fail('"meta" must be an object');
      break;
    case 'leave':
      if (!isRoomName(value.room)) fail(ROOM_RULE);
      break;
    case 'signal':
      if (!isShortString(value.to)) fail('"to" must be a peer id');
      if (value.room !== undefined && !isRoomName(value.room)) fail(ROOM_RULE);
      if (!('data' in value)) fail('"data" is required');
      break;
    case 'broadcast':
      if (!isRoomName(value.room)) fail(ROOM_RULE);
      if (!('data' in value)) fail('"data" is required');
      break;
    case 'ack':
      if (!isSeq(value.seq)) fail('"seq" must be a non-negative integer');
      break;
    case 'ping':
    case 'watch-rooms':
    case 'bye':
      break;
  }
  return value as unknown as ClientFrame;
}

/** Encodes a hub frame. Kept as a function so transports never stringify differently. */
export function encodeServerFrame(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

/**
 * Decodes a hub frame on the client side. Only the envelope is checked: a client
 * must ignore frame types it does not know (forward compatibility).
 */
export function decodeServerFrame(text: string): ServerFrame {
  const value: unknown = JSON.parse(text);
  if (!isPlainObject(value) || typeof value.type !== 'string') {
    throw new ProtocolError('bad-frame', 'hub frame must be an object with a string "type"');
  }
  return value as unknown as ServerFrame;
}
