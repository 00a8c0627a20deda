import { createHmac } from 'node:crypto';
import type { IceServer } from '@pinhole/protocol';
import { DEFAULT_TURN_TTL_SECONDS, type ResolvedHubOptions } from './defaults.js';

export interface TurnCredentials {
  username: string;
  credential: string;
  ttl: number;
}

/**
 * TURN REST API credentials (draft-uberti-behave-turn-rest, as coturn's `use-auth-secret`):
 * username `expiry:identity` (expiry in Unix seconds), password base64(HMAC-SHA1(secret, username)).
 */
export function turnCredentials(secret: string, identity: string, ttlSeconds: number, nowMs = Date.now()): TurnCredentials {
  const username = `${Math.floor(nowMs / 1000) + ttlSeconds}:${identity}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential, ttl: ttlSeconds };
}

/** The `iceServers` list handed to a session in `welcome`. */
export function iceServersFor(options: ResolvedHubOptions, identity: string): IceServer[] {
  const servers: IceServer[] = [];
  if (options.stunUrls.length > 0) servers.push({ urls: options.stunUrls });
  const turn = options.turn;
  const secret = turn?.secret ?? options.secret;
  if (turn && turn.urls.length > 0 && secret) {
    const { username, credential } = turnCredentials(secret, identity, turn.ttlSeconds ?? DEFAULT_TURN_TTL_SECONDS, options.now());
    servers.push({ urls: turn.urls, username, credential });
  }
  return servers;
}
