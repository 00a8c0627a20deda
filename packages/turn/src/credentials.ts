import { createHmac } from 'node:crypto';

/** Ephemeral TURN credentials in the shape RTCIceServer expects (plus their ttl). */
export interface TurnCredentials {
  /** `${expiryUnixSeconds}:${identity}` */
  readonly username: string;
  /** base64(HMAC-SHA1(secret, username)) */
  readonly credential: string;
  /** Seconds the credentials stay valid. */
  readonly ttl: number;
}

/**
 * The password of a TURN REST API username ("A REST API for access to TURN services",
 * draft-uberti-behave-turn-rest-00 §2.2; coturn's `use-auth-secret`): base64 of
 * HMAC-SHA1(secret, username).
 */
export function restPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username, 'utf8').digest('base64');
}

/**
 * Issue credentials valid for `ttlSeconds` from `now` (ms since the epoch). The same secret
 * configured in coturn as `static-auth-secret` makes these work there too.
 */
export function turnCredentials(secret: string, identity: string, ttlSeconds: number, now: number = Date.now()): TurnCredentials {
  if (!(ttlSeconds > 0)) throw new RangeError('ttlSeconds must be positive');
  const expiry = Math.floor(now / 1000) + Math.floor(ttlSeconds);
  const username = `${expiry}:${identity}`;
  return { username, credential: restPassword(secret, username), ttl: Math.floor(ttlSeconds) };
}

/** A REST API username that parsed and has not expired. */
export interface VerifiedRestUser {
  readonly identity: string;
  readonly password: string;
  /** Expiry in Unix seconds. */
  readonly expiresAt: number;
}

/**
 * Check a REST API username: it must be `${expiry}:${identity}` with a decimal expiry that is
 * still in the future at `now` (ms). Returns the password the client must have used, or
 * undefined for malformed or expired usernames.
 */
export function verifyRestUsername(secret: string, username: string, now: number = Date.now()): VerifiedRestUser | undefined {
  const colon = username.indexOf(':');
  const expiryText = colon < 0 ? username : username.slice(0, colon);
  if (!/^\d{1,12}$/.test(expiryText)) return undefined;
  const expiresAt = Number(expiryText);
  if (expiresAt * 1000 <= now) return undefined;
  return { identity: colon < 0 ? '' : username.slice(colon + 1), password: restPassword(secret, username), expiresAt };
}
