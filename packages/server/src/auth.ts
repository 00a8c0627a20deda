import { timingSafeEqual } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { ProtocolError, SERVICE_NAME } from '@pinhole/protocol';

/** What a token may allow. `publish` is enforced by peers' SDKs (media flows peer to peer). */
export type Permission = 'join' | 'publish' | 'data' | 'admin';
export const PERMISSIONS: readonly Permission[] = ['join', 'publish', 'data', 'admin'];
/** Granted when a token names no `perms`. */
export const DEFAULT_PERMISSIONS: readonly Permission[] = ['join', 'publish', 'data'];

export interface TokenClaims {
  /** Who the holder is; becomes `welcome.identity` and the TURN username suffix. */
  identity: string;
  /** A room name or a glob pattern (`*` matches any run of characters); absent = any room. */
  room?: string;
  perms?: Permission[];
  /**
   * A service grant (claim `svc`, e.g. `"sfu"`): the holder is marked as that service in
   * presence and may `watch-rooms`. Only the secret holder can mint one (docs/protocol/hub.md §6.2).
   */
  service?: string;
}

/** A verified token, as the hub uses it. */
export interface Grant {
  identity: string;
  /** Compiled room pattern; undefined = any room. */
  room: RegExp | undefined;
  perms: ReadonlySet<Permission>;
  /** Expiry, ms since epoch; undefined = never (dev mode). */
  expiresAt: number | undefined;
  /** The service this session is (`svc` claim); undefined for participants. */
  service: string | undefined;
}

export const DEV_GRANT: Grant = {
  identity: 'anonymous',
  room: undefined,
  perms: new Set(PERMISSIONS.filter((p) => p !== 'admin')),
  expiresAt: undefined,
  service: undefined,
};

const encoder = new TextEncoder();

/** Mints an HS256 JWT: `sub` = identity, `room`, `perms`, `svc`, `iat`, `exp`. */
export async function mintToken(secret: string, claims: TokenClaims, ttlSeconds: number, nowMs = Date.now()): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  const payload: Record<string, unknown> = {};
  if (claims.room !== undefined) payload.room = claims.room;
  if (claims.perms !== undefined) payload.perms = claims.perms;
  if (claims.service !== undefined) {
    if (!SERVICE_NAME.test(claims.service)) throw new TypeError(`service must match ${SERVICE_NAME.source}`);
    payload.svc = claims.service;
  }
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.identity)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(encoder.encode(secret));
}

function compileRoomPattern(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/** Verifies a token; throws ProtocolError `unauthorized` or `token-expired`. */
export async function verifyToken(secret: string, token: string, nowMs: number): Promise<Grant> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, encoder.encode(secret), {
      algorithms: ['HS256'],
      currentDate: new Date(nowMs),
      requiredClaims: ['sub', 'exp'],
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new ProtocolError('token-expired', 'token has expired; get a new one', undefined, undefined, { cause: err });
    throw new ProtocolError('unauthorized', `invalid token: ${(err as Error).message}`, undefined, undefined, { cause: err });
  }
  const { sub, room, perms, svc, exp } = payload as { sub: string; room?: unknown; perms?: unknown; svc?: unknown; exp: number };
  if (svc !== undefined && !(typeof svc === 'string' && SERVICE_NAME.test(svc))) throw new ProtocolError('unauthorized', 'invalid token: "svc" must be a service name');
  if (room !== undefined && typeof room !== 'string') throw new ProtocolError('unauthorized', 'invalid token: "room" must be a string');
  if (perms !== undefined && !(Array.isArray(perms) && perms.every((p) => PERMISSIONS.includes(p as Permission)))) {
    throw new ProtocolError('unauthorized', `invalid token: "perms" must be a list of ${PERMISSIONS.join(', ')}`);
  }
  return {
    identity: sub,
    room: room === undefined ? undefined : compileRoomPattern(room),
    perms: new Set((perms as Permission[] | undefined) ?? DEFAULT_PERMISSIONS),
    expiresAt: exp * 1000,
    service: svc as string | undefined,
  };
}

export function roomAllowed(grant: Grant, room: string): boolean {
  return grant.room === undefined || grant.room.test(room);
}

/** Constant-time comparison of a presented key against the accepted ones. */
export function keyMatches(presented: string, accepted: readonly (string | undefined)[]): boolean {
  const a = Buffer.from(presented);
  let ok = false;
  for (const candidate of accepted) {
    if (candidate === undefined) continue;
    const b = Buffer.from(candidate);
    if (a.length === b.length && timingSafeEqual(a, b)) ok = true;
  }
  return ok;
}
