import { ProtocolError, frameIdOf, validateClientFrame, type ClientFrame } from '@pinhole/protocol';
import type { HubCore, SessionHandle } from '../core.js';

/** A body of client frames, parsed: one frame, or an array of them (POST bodies, WebSocket messages). */
export interface FramesIn {
  value: unknown;
  /** UTF-8 size of the text it was parsed from. */
  bytes: number;
}

/** A single frame over the limit fails as a whole; an array's items are measured one by one. */
export function checkSingleSize(max: number, body: FramesIn): void {
  if (!Array.isArray(body.value) && body.bytes > max) throw new ProtocolError('too-large', `frame exceeds the limit of ${max} bytes`);
}

/** Applies every frame of a body in order; a bad one gets a sequenced error and the others go on. */
export function applyFrames<S extends SessionHandle>(hub: HubCore<S>, maxFrameBytes: number, session: S, body: FramesIn): void {
  const batch = Array.isArray(body.value);
  // Items are measured one by one only when the batch as a whole is over the limit.
  const max = batch && body.bytes > maxFrameBytes ? maxFrameBytes : undefined;
  for (const item of batch ? (body.value as unknown[]) : [body.value]) applyOne(hub, session, item, max);
}

/** `max`: the size limit of one item, when items must be measured. */
function applyOne<S extends SessionHandle>(hub: HubCore<S>, session: S, item: unknown, max: number | undefined): void {
  let frame: ClientFrame;
  try {
    // Validation first: it refuses a frame nested too deep before anything encodes it again.
    frame = validateClientFrame(item);
    if (max !== undefined && Buffer.byteLength(JSON.stringify(item)) > max) {
      throw new ProtocolError('too-large', `frame exceeds the limit of ${max} bytes`, frame.id, frame.type);
    }
    if (frame.type === 'hello') throw new ProtocolError('already-welcomed', 'this session already has had its hello; a hello goes alone, first', frame.id, 'hello');
  } catch (err) {
    // Every element gets an answer that consumes its id, even on an unexpected failure.
    hub.reject(session, err instanceof ProtocolError ? err : new ProtocolError('internal', 'internal error', frameIdOf(item)));
    return;
  }
  hub.receive(session, frame);
}
