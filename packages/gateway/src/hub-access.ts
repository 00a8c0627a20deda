/**
 * GatewayAccess from a Pinhole hub on the same port: the hub checks `Authorization: Bearer`
 * (a token, an API key or the secret; anyone in dev mode) and mints the TURN credentials.
 * Structural, so the gateway does not depend on @pinhole/server.
 */
import { httpStatusOf, ProtocolError, type IceServer } from '@pinhole/protocol';
import { GatewayError } from './errors.js';
import type { GatewayAccess } from './gateway.js';

/** The part of @pinhole/server's HubServer the gateway uses. */
export interface HubAuthority {
  /** Throws ProtocolError `unauthorized`/`token-expired` (401) or `forbidden` (403). */
  authorizeBearer(authorization: string | undefined, room: string, permission: 'publish' | 'join'): Promise<{ identity: string }>;
  iceServers(identity: string): IceServer[];
  readonly options: { readonly allowedOrigins: readonly string[] };
}

export function hubAccess(hub: HubAuthority): GatewayAccess {
  return {
    allowedOrigins: hub.options.allowedOrigins,
    iceServers: (identity) => hub.iceServers(identity),
    async authorize(authorization, room, action) {
      try {
        const { identity } = await hub.authorizeBearer(authorization, room, action === 'publish' ? 'publish' : 'join');
        return { identity };
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        const status = httpStatusOf(err.code);
        throw new GatewayError(status, err.code, err.message, status === 401 ? { 'www-authenticate': 'Bearer' } : {});
      }
    },
  };
}
