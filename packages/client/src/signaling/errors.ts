/**
 * Errors of the signalers (the hub connection's own checks, MQTT, Redis, manual/QR, sealed,
 * chain) and of sessions and rooms. Every one has
 * a machine-readable `code`; bad input from the wire becomes one of these as an `error`
 * event (the message is dropped, the signaler keeps running) or a rejected call — never a
 * crash.
 */
import { CodedError } from '../coded-error.js';

export type SignalingErrorCode =
  /** A broker message that is not valid Pinhole rendezvous JSON (docs/protocol/rendezvous.md §14). */
  | 'bad-payload'
  /** A manual offer/answer string that cannot be decoded (wrong prefix, base64, deflate, fields). */
  | 'bad-manual-string'
  /** A sealed payload that does not decrypt: wrong passphrase, another room, or tampered. */
  | 'decrypt-failed'
  /** A sealed signaler got a payload that is not sealed (a peer without the passphrase). */
  | 'not-sealed'
  /** The broker could not be reached or refused us. */
  | 'connect-failed'
  /** A step did not finish in time (connect, join, ICE gathering, a chain rung). */
  | 'timeout'
  /** The signaler was closed. */
  | 'closed'
  /** What was asked cannot be carried (e.g. a repair signal after a one-shot manual exchange). */
  | 'unsupported'
  /** An option is invalid: no hub URL, an unknown transport, reconnect options out of range. */
  | 'bad-option'
  /** More than `maxRetained` frames wait for the hub (HubConnection.send while disconnected too long). */
  | 'queue-full'
  /** `join` of a room this session is in already. */
  | 'already-joined';

export class SignalingError extends CodedError<SignalingErrorCode> {
  override readonly name = 'SignalingError';
}

/** Runs `work` with a deadline; on expiry rejects with a `timeout` SignalingError. @internal */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  if (!Number.isFinite(ms)) return work;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SignalingError('timeout', `${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
