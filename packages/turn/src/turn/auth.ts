import { verifyRestUsername } from '../credentials.js';
import { PasswordAlgorithm, type PasswordAlgorithmValue } from '../stun/attributes.js';
import { ErrorCode } from '../stun/constants.js';
import { type IntegrityAlgorithm, longTermKey, userHash, verifyIntegrity } from '../stun/integrity.js';
import type { StunMessage } from '../stun/message.js';
import type { AllocationOwner } from './allocation.js';
import { NONCE_COOKIE, NONCE_FEATURES, type NonceIssuer } from './nonce.js';

/** The PASSWORD-ALGORITHMS we offer, most preferred first (RFC 8489 §14.11). */
export const OFFERED_PASSWORD_ALGORITHMS: readonly PasswordAlgorithmValue[] = [
  { algorithm: PasswordAlgorithm.SHA256, parameters: Buffer.alloc(0) },
  { algorithm: PasswordAlgorithm.MD5, parameters: Buffer.alloc(0) },
];

/** Where passwords come from: static users first, then TURN REST API usernames. */
export class CredentialStore {
  private readonly byHash = new Map<string, string>();

  constructor(
    realm: string,
    private readonly secret: string | undefined,
    private readonly staticUsers: Readonly<Record<string, string>> = {},
  ) {
    for (const username of Object.keys(staticUsers)) this.byHash.set(userHash(username, realm).toString('hex'), username);
  }

  /** Password and quota bucket of `username`, or undefined if unknown or expired. */
  lookup(username: string, now: number): (AllocationOwner & { password: string }) | undefined {
    const password = Object.hasOwn(this.staticUsers, username) ? this.staticUsers[username] : undefined;
    if (password !== undefined) return { username, quotaKey: `static:${username}`, password };
    if (this.secret === undefined) return undefined;
    const rest = verifyRestUsername(this.secret, username, now);
    return rest && { username, quotaKey: `rest:${rest.identity}`, password: rest.password };
  }

  /** RFC 8489 §14.4: USERHASH can only be resolved for static users (REST names are unknowable). */
  usernameForHash(hash: Buffer): string | undefined {
    return this.byHash.get(hash.toString('hex'));
  }
}

/** A request that passed the long-term credential mechanism. */
export interface Authenticated {
  readonly ok: true;
  readonly owner: AllocationOwner;
  readonly key: Buffer;
  /** The integrity attribute the client used; responses use the same one. */
  readonly integrity: IntegrityAlgorithm;
}

/** A request that did not; `challenge` means the error response carries REALM and NONCE. */
export interface Rejected {
  readonly ok: false;
  readonly code: number;
  readonly challenge: boolean;
  /** True when the client tried real credentials (counted as an auth failure). */
  readonly failure: boolean;
}

const reject = (code: number, challenge: boolean, failure: boolean): Rejected => ({ ok: false, code, challenge, failure });

function sameAlgorithms(a: readonly PasswordAlgorithmValue[], b: readonly PasswordAlgorithmValue[]): boolean {
  return a.length === b.length && a.every((x, i) => x.algorithm === b[i]?.algorithm && x.parameters.equals(b[i].parameters));
}

/**
 * RFC 8489 §9.2.4 receiving a request with long-term credentials, in the RFC's order. May
 * throw StunDecodeError for malformed attributes (the caller answers 400).
 */
export function authenticate(
  request: StunMessage,
  clientIp: string,
  now: number,
  deps: { realm: string; store: CredentialStore; nonces: NonceIssuer },
): Authenticated | Rejected {
  // "If the message does not contain a MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256
  //  attribute, the server MUST generate an error response with an error code of 401."
  if (!request.has('MESSAGE-INTEGRITY') && !request.has('MESSAGE-INTEGRITY-SHA256')) return reject(ErrorCode.Unauthenticated, true, false);
  // "If the message contains a MESSAGE-INTEGRITY or a MESSAGE-INTEGRITY-SHA256 attribute, but
  //  is missing either the USERNAME or USERHASH, REALM, or NONCE attribute, ... 400."
  const usernameAttr = request.get('USERNAME');
  const hash = request.get('USERHASH');
  const nonce = request.get('NONCE');
  if ((usernameAttr === undefined && hash === undefined) || !request.has('REALM') || nonce === undefined) {
    return reject(ErrorCode.BadRequest, false, false);
  }
  // "If the NONCE attribute starts with the 'nonce cookie' with the STUN Security Feature
  //  'Password algorithms' bit set", check PASSWORD-ALGORITHMS / PASSWORD-ALGORITHM.
  let passwordAlgorithm: number = PasswordAlgorithm.MD5;
  if (nonce.startsWith(NONCE_COOKIE + NONCE_FEATURES)) {
    const offered = request.get('PASSWORD-ALGORITHMS');
    const chosen = request.get('PASSWORD-ALGORITHM');
    if (offered !== undefined || chosen !== undefined) {
      // Only one of them, a list that differs from ours, or a choice not in it: 400.
      if (!offered || !chosen || !sameAlgorithms(offered, OFFERED_PASSWORD_ALGORITHMS)) return reject(ErrorCode.BadRequest, false, false);
      if (!offered.some((a) => a.algorithm === chosen.algorithm)) return reject(ErrorCode.BadRequest, false, false);
      passwordAlgorithm = chosen.algorithm;
    }
  }
  // "If the NONCE is no longer valid, the server MUST generate an error response with an
  //  error code of 438 (Stale Nonce)."
  if (!deps.nonces.isValid(nonce, clientIp, now)) return reject(ErrorCode.StaleNonce, true, false);
  // "If the value of the USERNAME or USERHASH attribute is not valid, ... 401."
  const username = usernameAttr ?? (hash && deps.store.usernameForHash(hash));
  const user = username === undefined ? undefined : deps.store.lookup(username, now);
  if (!user) return reject(ErrorCode.Unauthenticated, true, true);
  // "Using the password associated with the username ... compute the value for the message
  //  integrity ... If the resulting value does not match ... 401."
  const key = longTermKey(user.username, deps.realm, user.password, passwordAlgorithm);
  const check = verifyIntegrity(request, key);
  if (!check.ok) return reject(ErrorCode.Unauthenticated, true, true);
  return { ok: true, owner: { username: user.username, quotaKey: user.quotaKey }, key, integrity: check.algorithm };
}
