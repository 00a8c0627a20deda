/**
 * The session rules both cores apply the same way: what a hello needs, what a resume
 * checks (docs/protocol/hub.md §4.3, §6.3), what an HTTP request naming a session checks, and
 * the `welcome` frame.
 */
import { MAX_FRAME_DEPTH, PROTOCOL_VERSION, ProtocolError, type FrameId, type HelloFrame, type WelcomeFrame } from '@pinhole/protocol';
import { DEV_GRANT, keyMatches, verifyToken, type Grant } from './auth.js';
import type { CoreConfig } from './core.js';
import type { HubAccess } from './defaults.js';
import { iceServersFor } from './ice.js';
import { OVERFLOW_MESSAGE } from './transports/transport.js';

/** What the rules need to know of a session, in either core. */
export interface SessionFacts {
  readonly id: string;
  readonly key: string;
  readonly peer: string;
  readonly grant: Grant;
  readonly seq: number;
  readonly lastId: number;
  readonly rooms: Iterable<string>;
}

/**
 * The hello's token, verified (undefined without one). Throws ProtocolError. In dev mode
 * tokens are ignored, except a service token signed with the hub's own key (`devServiceKey`,
 * which only the process holding the hub can use): anything else gets the dev grant.
 */
export async function helloGrant(access: HubAccess, frame: HelloFrame, now: number): Promise<Grant | undefined> {
  if (frame.token === undefined) return undefined;
  if (access.secret !== undefined) return verifyToken(access.secret, frame.token, now);
  if (access.devServiceKey === undefined) return undefined;
  const grant = await verifyToken(access.devServiceKey, frame.token, now).catch(() => undefined);
  return grant?.service === undefined ? undefined : grant;
}

/** The grant of a new session: the token's, or the dev grant. Throws `unauthorized` in secret mode without one. */
export function newSessionGrant(access: HubAccess, frame: HelloFrame, grant: Grant | undefined): Grant {
  if (grant) return grant;
  if (access.secret !== undefined) throw new ProtocolError('unauthorized', 'a token is required (this hub has a secret)', frame.id, 'hello');
  return DEV_GRANT;
}

/**
 * Checks a resume hello against the session it names (undefined: unknown or ended).
 * Returns the session and the grant it has from now on (a fresh token replaces the old one).
 */
export function checkResume<S extends SessionFacts>(frame: HelloFrame, session: S | undefined, grant: Grant | undefined, now: number): { session: S; grant: Grant } {
  const resume = frame.resume!;
  if (!session) throw new ProtocolError('session-unknown', 'session expired or unknown; send hello without resume to start a new one', frame.id, 'hello');
  if (!keyMatches(resume.key, [session.key])) throw new ProtocolError('unauthorized', 'wrong session key', frame.id, 'hello');
  if (grant) {
    if (grant.identity !== session.grant.identity) throw new ProtocolError('forbidden', 'token identity differs from the session identity', frame.id, 'hello');
    if (grant.service !== session.grant.service) throw new ProtocolError('forbidden', 'token service differs from the session\'s', frame.id, 'hello');
  } else if (session.grant.expiresAt !== undefined && session.grant.expiresAt <= now) {
    throw new ProtocolError('token-expired', 'the session token has expired; resume with a fresh token', frame.id, 'hello');
  }
  if (resume.lastSeq > session.seq) {
    throw new ProtocolError('bad-frame', `resume.lastSeq ${resume.lastSeq} is ahead of the session (seq ${session.seq})`, frame.id, 'hello');
  }
  return { session, grant: grant ?? session.grant };
}

/**
 * Checks an HTTP request naming a session with `session` and `key` (undefined: unknown or
 * ended). `overflowedKey`: the key of a session of that id that ended by overflow a short
 * while ago; its client gets `overflow` rather than `session-unknown` (§4.2).
 */
export function checkSessionRequest<S extends SessionFacts>(session: S | undefined, key: string | null, now: number, overflowedKey?: string): S {
  if (!session) {
    if (overflowedKey !== undefined && key && keyMatches(key, [overflowedKey])) throw new ProtocolError('overflow', OVERFLOW_MESSAGE);
    throw new ProtocolError('session-unknown', 'session expired or unknown; POST a hello to /v1/send to start one');
  }
  if (!key || !keyMatches(key, [session.key])) throw new ProtocolError('unauthorized', 'wrong session key');
  const expiresAt = session.grant.expiresAt;
  if (expiresAt !== undefined && expiresAt <= now) {
    throw new ProtocolError('token-expired', 'the session token has expired; POST a hello with resume and a fresh token');
  }
  return session;
}

/** `now`: the clock, for the TURN credentials' expiry. */
export function welcomeFrame({ limits: o, access }: CoreConfig, now: number, session: SessionFacts, resumed: boolean, ref?: FrameId): WelcomeFrame {
  const welcome: WelcomeFrame = {
    type: 'welcome',
    protocol: PROTOCOL_VERSION,
    session: session.id,
    key: session.key,
    peer: session.peer,
    identity: session.grant.identity,
    resumed,
    seq: session.seq,
    lastId: session.lastId,
    heartbeat: o.heartbeatMs,
    grace: o.graceMs,
    iceServers: iceServersFor(access, session.grant.identity, now),
    limits: {
      maxFrameBytes: o.maxFrameBytes,
      maxFrameDepth: MAX_FRAME_DEPTH,
      maxRoomsPerSession: o.maxRoomsPerSession,
      maxPeersPerRoom: o.maxPeersPerRoom,
      ratePerSecond: o.ratePerSecond === Infinity ? 0 : o.ratePerSecond,
      rateBurst: o.rateBurst,
      maxMetaBytes: o.maxMetaBytes,
      pollHoldMs: o.pollHoldMs,
      maxWriteBufferBytes: o.maxWriteBufferBytes,
    },
    rooms: [...session.rooms],
  };
  if (ref !== undefined) welcome.ref = ref;
  return welcome;
}
