import { ProtocolError, frameIdOf, validateClientFrame, type ClientFrame } from '@pinhole/protocol';
import type { HubCore, SessionHandle } from '../core.js';

/** A body of client frames, parsed: one frame, or an array of them (POST bodies, WebSocket messages). */
export interface FramesIn {
  value: unknown;
  /** UTF-8 size of the text it was parsed from. */
  bytes: number;
}

/** A single frame over the limit fails as a whole; an array's items are measured one by one. */
export function checkSingleSize(hub: HubCore, body: FramesIn): void {
  const max = hub.options.maxFrameBytes;
  if (!Array.isArray(body.value) && body.bytes > max) throw new ProtocolError('too-large', `frame exceeds the limit of ${max} bytes`);
}

/** Applies every frame of a body in order; a bad one gets a sequenced error and the others go on. */
export function applyFrames(hub: HubCore, session: SessionHandle, body: FramesIn): void {
  const batch = Array.isArray(body.value);
  // Items are measured one by one only when the batch as a whole is over the limit.
  const measure = batch && body.bytes > hub.options.maxFrameBytes;
  for (const item of batch ? (body.value as unknown[]) : [body.value]) applyOne(hub, session, item, measure);
}

function applyOne(hub: HubCore, session: SessionHandle, item: unknown, measure: boolean): void {
  let frame: ClientFrame;
  try {
    // Validation first: it refuses a frame nested too deep before anything encodes it again.
    frame = validateClientFrame(item);
    if (measure && Buffer.byteLength(JSON.stringify(item)) > hub.options.maxFrameBytes) {
      throw new ProtocolError('too-large', `frame exceeds the limit of ${hub.options.maxFrameBytes} bytes`, frame.id, frame.type);
    }
    if (frame.type === 'hello') throw new ProtocolError('already-welcomed', 'this session already has had its hello; a hello goes alone, first', frame.id, 'hello');
  } catch (err) {
    // Every element gets an answer that consumes its id, even on an unexpected failure.
    hub.reject(session, err instanceof ProtocolError ? err : new ProtocolError('internal', 'internal error', frameIdOf(item)));
    return;
  }
  hub.receive(session, frame);
}
