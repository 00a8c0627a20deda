/**
 * Wire format of a forward stream: one reliable, ordered RTCDataChannel per TCP connection,
 * labelled `pinhole-forward:<id>` (subprotocol `pinhole-forward`), created by the side that
 * accepted the TCP connection (the `connect` client). Binary messages are stream bytes;
 * string messages are JSON control messages:
 *
 *   client → agent   open    {t, target}      first message; which exposed port to connect to
 *   agent → client   opened  {t}              the agent's TCP connection is up; bytes may flow
 *   either           ack     {t, n}           n = bytes written to my socket so far, +1 once
 *                                             your fin was applied (like TCP, FIN takes a number)
 *                    fin     {t}              no more bytes from me (my TCP peer half-closed)
 *                    reset   {t, code, message}  the stream failed; the channel closes next
 *
 * A side may have at most `window` bytes sent and not acknowledged; more is a protocol
 * error (`window-exceeded`). The channel is closed by a side once its own fin is
 * acknowledged and the peer's fin was applied; closing in any other state is a reset.
 */
import { AgentError } from './errors.js';

export type StreamControl =
  | { t: 'open'; target: string }
  | { t: 'opened' }
  | { t: 'ack'; n: number }
  | { t: 'fin' }
  | { t: 'reset'; code: string; message: string };

const MAX_CONTROL_CHARS = 4096;

/** Parses one control message; throws AgentError `bad-message`. */
export function parseStreamControl(text: string): StreamControl {
  if (text.length > MAX_CONTROL_CHARS) throw bad(`control message of ${text.length} chars`);
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw bad('control message is not JSON', err);
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw bad('control message is not an object');
  switch (m.t) {
    case 'open':
      if (typeof m.target !== 'string' || m.target.length === 0 || m.target.length > 256) throw bad('open: bad target');
      return { t: 'open', target: m.target };
    case 'opened':
    case 'fin':
      return { t: m.t };
    case 'ack':
      if (typeof m.n !== 'number' || !Number.isSafeInteger(m.n) || m.n < 0) throw bad('ack: bad n');
      return { t: 'ack', n: m.n };
    case 'reset':
      return { t: 'reset', code: String(m.code).slice(0, 64), message: String(m.message).slice(0, 1024) };
    default:
      throw bad(`unknown control message ${JSON.stringify(String(m.t).slice(0, 32))}`);
  }
}

export function encodeStreamControl(msg: StreamControl): string {
  return JSON.stringify(msg);
}

function bad(message: string, cause?: unknown): AgentError {
  return new AgentError('bad-message', message, { cause });
}
