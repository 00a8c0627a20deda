import type { ResolvedTurnServerOptions, TurnLogger } from '../options.js';
import type { MessageClassCode } from '../stun/constants.js';
import type { StunMessage } from '../stun/message.js';
import type { TurnAction } from './actions.js';
import type { Allocation } from './allocation.js';
import type { Authenticated } from './auth.js';
import type { FiveTuple } from './five-tuple.js';
import type { TurnStats } from './stats.js';

/** The options the sans-IO core needs (a subset of ResolvedTurnServerOptions). */
export type CoreOptions = Pick<
  ResolvedTurnServerOptions,
  | 'realm'
  | 'software'
  | 'secret'
  | 'staticUsers'
  | 'allowPeers'
  | 'maxAllocationsPerUser'
  | 'maxAllocations'
  | 'bandwidthBytesPerSecond'
  | 'nonceLifetimeSeconds'
  | 'defaultLifetimeSeconds'
  | 'maxLifetimeSeconds'
  | 'allowLegacyChannelNumbers'
> & {
  /** Family of the relayed addresses this server hands out (that of relayIp). */
  readonly relayFamily: 4 | 6;
};

/** What the core gets from its environment: a clock, randomness and maybe a logger. */
export interface CoreDeps {
  /** Milliseconds; tests pass a fake clock. */
  now(): number;
  randomBytes(size: number): Buffer;
  readonly logger?: TurnLogger | undefined;
}

/** A request being handled: message, origin, and (after authentication) the credentials. */
export interface RequestContext {
  readonly request: StunMessage;
  readonly client: FiveTuple;
  readonly tupleKey: string;
  readonly auth?: Authenticated;
}

/** A request that passed authentication. */
export type AuthenticatedRequest = RequestContext & { readonly auth: Authenticated };

/** A pending Allocate, answered when the relay socket is open (or failed). */
export interface PendingAllocate {
  readonly rc: AuthenticatedRequest;
  readonly reserveToken: Buffer | undefined;
}

/** The counters of TurnStats a handler may bump (gauges and errorResponses are the core's). */
export type TurnCounter = Exclude<keyof TurnStats, 'allocations' | 'permissions' | 'channels' | 'connections' | 'errorResponses'>;

/**
 * Everything a method handler (handlers/) may see and do: the server state stays the core's,
 * and changes only through these operations. TurnServerCore implements it; handlers import
 * this file only (as types), so the core depends on the handlers and never the other way.
 */
export interface TurnContext {
  readonly options: CoreOptions;
  /** Milliseconds, from the injected clock. */
  now(): number;
  randomBytes(size: number): Buffer;
  count(counter: TurnCounter, by?: number): void;
  /** Count a relayed datagram and its payload bytes (the relay path's counters, in one call). */
  relayed(direction: 'to-peer' | 'from-peer', bytes: number): void;
  /** The peer filter (RFC 8656 §9.2: the server "MAY impose restrictions on the IP address"). */
  isPeerAllowed(ip: string): boolean;

  /** The allocation of a 5-tuple (RFC 8656 §6: at most one), pending or active. */
  allocationOn(tupleKey: string): Allocation | undefined;
  /** RFC 8656 §7.2 step 8: whether one more allocation fits the user's and the server's quota. */
  hasQuotaFor(quotaKey: string): boolean;
  /**
   * Record a new allocation, pending until the socket layer reports its relay socket (the core
   * then calls answerAllocate); `make` gets the allocation's id. A RESERVATION-TOKEN it uses is
   * consumed.
   */
  addAllocation(make: (id: number) => Allocation, pending: PendingAllocate, usedReservation: Buffer | undefined): Allocation;
  /** Delete an allocation: the actions closing its relay socket (and a TCP/TLS client connection). */
  deleteAllocation(allocation: Allocation): TurnAction[];

  /** RFC 8656 §14.9: the family a live (known, unexpired) RESERVATION-TOKEN holds, else undefined. */
  reservedFamily(token: Buffer): 4 | 6 | undefined;
  /** Keep the relay address reserved under `token` (until RESERVATION_LIFETIME_S). */
  reserve(token: Buffer, family: 4 | 6): void;

  /** Encode a response to `rc`: SOFTWARE, integrity when authenticated, FINGERPRINT if the request had one. */
  response(rc: RequestContext, cls: MessageClassCode, fill?: (m: StunMessage) => void): Buffer;
  success(rc: RequestContext, fill?: (m: StunMessage) => void): TurnAction[];
  /** An error response (and its count in errorResponses). */
  error(rc: RequestContext, code: number, fill?: (m: StunMessage) => void): TurnAction[];
}
