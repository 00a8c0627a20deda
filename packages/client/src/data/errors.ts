import { CodedError, asCodedError } from '../coded-error.js';

/** Machine-readable codes of every error the data layer emits, throws or rejects with. */
export type DataErrorCode =
  /** send/open on a channel or registry that was closed. */
  | 'closed'
  /** A second registry of the same kind was attached to one ChannelHost. */
  | 'already-attached'
  /** A message larger than MAX_MESSAGE_BYTES or the peer's a=max-message-size (RTCSctpTransport.maxMessageSize). */
  | 'message-too-large'
  /** More than maxQueuedBytes of reliable messages queued while the channel was down. */
  | 'queue-full'
  /** A value `send` cannot encode (not JSON-serialisable). */
  | 'bad-value'
  /** A malformed frame or control message arrived. */
  | 'bad-message'
  /** A chunk arrived before acceptance, or beyond the announced size. */
  | 'bad-chunk'
  /** The received bytes do not hash to the digest the sender announced. */
  | 'digest-mismatch'
  /** The transfer's channel died and no new one came within resumeTimeoutMs. */
  | 'connection-lost'
  /** The offer announced more than maxFileBytes. */
  | 'too-large'
  /** Reading the source or writing the sink failed. */
  | 'io'
  /** The peer reported an error on its side (its code is in the message). */
  | 'remote-error'
  /** finished() of a transfer that was cancelled or rejected. */
  | 'cancelled'
  | 'rejected';

/** Base error of the data layer: `code` is always set, `cause` is kept. */
export class DataError extends CodedError<DataErrorCode> {
  override readonly name = 'DataError';
}

/** @internal */
export function toDataError(code: DataErrorCode, what: string, cause: unknown): DataError {
  return asCodedError(DataError, code, what, cause);
}
