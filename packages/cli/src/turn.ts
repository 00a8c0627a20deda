/**
 * The seam between `pinhole serve` and the embedded STUN/TURN server (package
 * `@pinhole/turn`, written separately). Until that package exists `startEmbeddedTurn`
 * starts nothing and says so; `serve` then tells the operator TURN is not running and hands
 * clients no embedded TURN URLs. Nothing here pretends to relay.
 */
import type { Logger } from 'pino';

export interface EmbeddedTurnOptions {
  /** Address to listen on (same as the hub's). */
  host: string;
  /** UDP and TCP port (`--turn-port`, > 0). */
  port: number;
  /** TURN REST API shared secret (RFC draft-uberti-behave-turn-rest): the hub mints credentials with it. */
  secret: string;
  /** Realm for long-term credentials. */
  realm: string;
  /** Host name or address clients should use in `turn:`/`stun:` URLs. */
  publicHost: string;
  logger: Logger;
}

export interface EmbeddedTurn {
  /** e.g. ['stun:198.51.100.7:3478'] */
  stunUrls: string[];
  /** e.g. ['turn:198.51.100.7:3478?transport=udp', 'turn:198.51.100.7:3478?transport=tcp'] */
  turnUrls: string[];
  close(): Promise<void>;
}

/** Starts a TURN server, or returns `undefined` when none is available. */
export type StartTurn = (options: EmbeddedTurnOptions) => Promise<EmbeddedTurn | undefined>;

/** Why the default `startEmbeddedTurn` started nothing; printed by `serve`. */
export const EMBEDDED_TURN_UNAVAILABLE =
  'embedded TURN is not started yet: @pinhole/turn is not available in this build';

/**
 * SEAM for @pinhole/turn: replace the body with its start function, e.g.
 * `const { startTurnServer } = await import('@pinhole/turn'); return startTurnServer({...})`,
 * and map its listening addresses to `stunUrls`/`turnUrls` built from `publicHost`.
 */
export async function startEmbeddedTurn(_options: EmbeddedTurnOptions): Promise<EmbeddedTurn | undefined> {
  return undefined;
}
