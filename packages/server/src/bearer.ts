/**
 * `Authorization: Bearer …` on the hub's HTTP surface (the REST API, and the WHIP/WHEP
 * gateway on the same port): a token, an API key or the secret (docs/protocol/hub.md §9).
 */
import { ProtocolError } from '@pinhole/protocol';
import { DEV_GRANT, PERMISSIONS, keyMatches, verifyToken, type Grant } from './auth.js';
import type { HubAccess } from './defaults.js';

/** What the secret or an API key may do: everything, in any room. */
export const KEY_GRANT: Grant = { identity: 'api-key', room: undefined, perms: new Set(PERMISSIONS), expiresAt: undefined, service: undefined };

/**
 * The grant a request's Authorization header carries: DEV_GRANT in dev mode (no secret, no
 * API keys), KEY_GRANT for the secret or an API key, else the verified token's. Throws
 * ProtocolError `unauthorized` or `token-expired`.
 */
export async function bearerGrant(access: Pick<HubAccess, 'secret' | 'apiKeys'>, authorization: string | undefined, now: number): Promise<Grant> {
  const { secret, apiKeys } = access;
  if (secret === undefined && apiKeys.length === 0) return DEV_GRANT;
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match) throw new ProtocolError('unauthorized', 'send "Authorization: Bearer <token, API key or secret>"');
  const bearer = match[1]!;
  if (keyMatches(bearer, [secret, ...apiKeys])) return KEY_GRANT;
  if (secret === undefined || bearer.split('.').length !== 3) throw new ProtocolError('unauthorized', 'unknown API key');
  return verifyToken(secret, bearer, now);
}
