import { CodedError, asCodedError } from '../coded-error.js';

/** Machine-readable codes of the errors the peer and media layers emit or throw. */
export type PeerErrorCode =
  /** Applying a remote description, or making or applying a local one, failed. */
  | 'negotiation-failed'
  /** The RTCPeerConnection implementation cannot do this (e.g. media on node-datachannel). */
  | 'unsupported'
  /** The object was closed (or media stopped) before the call. */
  | 'closed'
  /** getUserMedia / getDisplayMedia / replaceTrack failed. */
  | 'media-failed';

/** Base error of the peer and media layers: `code` is always set, `cause` is kept. */
export class PeerError extends CodedError<PeerErrorCode> {
  override readonly name = 'PeerError';
}

/** @internal */
export function toPeerError(code: PeerErrorCode, what: string, cause: unknown): PeerError {
  return asCodedError(PeerError, code, what, cause);
}
