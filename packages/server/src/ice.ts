import type { IceServer } from '@pinhole/protocol';
import { turnCredentials } from '@pinhole/turn';
import { DEFAULT_TURN_TTL_SECONDS, type HubAccess } from './defaults.js';

/** The `iceServers` list handed to a session in `welcome`. */
export function iceServersFor(options: HubAccess, identity: string, now: number): IceServer[] {
  const servers: IceServer[] = [];
  if (options.stunUrls.length > 0) servers.push({ urls: options.stunUrls });
  const turn = options.turn;
  const secret = turn?.secret ?? options.secret;
  if (turn && turn.urls.length > 0 && secret) {
    const { username, credential } = turnCredentials(secret, identity, turn.ttlSeconds ?? DEFAULT_TURN_TTL_SECONDS, now);
    servers.push({ urls: turn.urls, username, credential });
  }
  return servers;
}
