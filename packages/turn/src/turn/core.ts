import { RESERVATION_LIFETIME_S } from '../defaults.js';
import { StunDecodeError } from '../errors.js';
import { type TransportAddress, canonicalIp } from '../stun/address.js';
import { looksLikeChannelData } from '../stun/channel-data.js';
import { ErrorCode, Method, MessageClass, type MessageClassCode, reasonPhrase } from '../stun/constants.js';
import { StunMessage, decodeStunMessage, looksLikeStun } from '../stun/message.js';
import type { TurnAction } from './actions.js';
import { AllocationTable } from './allocation-table.js';
import { CredentialStore, OFFERED_PASSWORD_ALGORITHMS, type Rejected, authenticate } from './auth.js';
import { type FiveTuple, fiveTupleKey } from './five-tuple.js';
import type { Allocation } from './allocation.js';
import type { AuthenticatedRequest, CoreDeps, CoreOptions, PendingAllocate, RequestContext, TurnContext, TurnCounter } from './context.js';
import { answerAllocate, handleAllocate, handleRefresh } from './handlers/allocate.js';
import { handleBinding } from './handlers/binding.js';
import { handleChannelBind, handleCreatePermission } from './handlers/permissions.js';
import { handleClientChannelData, handlePeerData, handleSendIndication } from './handlers/relay.js';
import { ErrorLog } from './error-log.js';
import { NonceIssuer } from './nonce.js';
import { PeerFilter } from './peer-filter.js';
import { type TurnStats, emptyStats } from './stats.js';

export type { CoreDeps, CoreOptions } from './context.js';

/**
 * The TURN server without I/O (RFC 8656): feed it client packets, peer datagrams, relay socket
 * results and clock ticks; it returns the actions to perform. Never throws from its inputs.
 */
export class TurnServerCore implements TurnContext {
  private readonly table = new AllocationTable();
  private readonly counters: TurnStats = emptyStats();
  private readonly peers: PeerFilter;
  private readonly pending = new Map<number, PendingAllocate>();
  /** RESERVATION-TOKEN (hex) → expiry and family (RFC 8656 §14.9). */
  private readonly reservations = new Map<string, { expiresAt: number; family: 4 | 6 }>();
  private readonly store: CredentialStore;
  private readonly nonces: NonceIssuer;
  private readonly errorLog: ErrorLog;
  private nextId = 1;

  constructor(
    readonly options: CoreOptions,
    readonly deps: CoreDeps,
  ) {
    this.peers = new PeerFilter(options.allowPeers);
    this.store = new CredentialStore(options.realm, options.secret, options.staticUsers);
    this.nonces = new NonceIssuer(deps.randomBytes(32), options.nonceLifetimeSeconds * 1000);
    this.errorLog = new ErrorLog(deps.logger, () => this.now());
  }

  now(): number {
    return this.deps.now();
  }

  // TurnContext: what the method handlers may do (handlers/); not meant for embedders, who
  // drive the core through handleClientPacket, handlePeerPacket, relayOpened/Failed and tick.

  /** @internal */
  randomBytes(size: number): Buffer {
    return this.deps.randomBytes(size);
  }

  /** @internal */
  count(counter: TurnCounter, by = 1): void {
    this.counters[counter] += by;
  }

  /** @internal */
  relayed(direction: 'to-peer' | 'from-peer', bytes: number): void {
    const { counters } = this;
    if (direction === 'to-peer') {
      counters.packetsToPeers++;
      counters.bytesToPeers += bytes;
    } else {
      counters.packetsFromPeers++;
      counters.bytesFromPeers += bytes;
    }
  }

  /** @internal */
  isPeerAllowed(ip: string): boolean {
    return this.peers.isAllowed(ip);
  }

  /** @internal */
  allocationOn(tupleKey: string): Allocation | undefined {
    return this.table.byTupleKey(tupleKey);
  }

  /** @internal */
  hasQuotaFor(quotaKey: string): boolean {
    return this.table.countFor(quotaKey) < this.options.maxAllocationsPerUser && this.table.size < this.options.maxAllocations;
  }

  /** @internal */
  addAllocation(make: (id: number) => Allocation, pending: PendingAllocate, usedReservation: Buffer | undefined): Allocation {
    const allocation = make(this.nextId++);
    this.table.add(allocation);
    this.pending.set(allocation.id, pending);
    if (usedReservation) this.reservations.delete(usedReservation.toString('hex'));
    return allocation;
  }

  /** @internal */
  reservedFamily(token: Buffer): 4 | 6 | undefined {
    const reservation = this.reservations.get(token.toString('hex'));
    return reservation && this.now() < reservation.expiresAt ? reservation.family : undefined;
  }

  /** @internal */
  reserve(token: Buffer, family: 4 | 6): void {
    this.reservations.set(token.toString('hex'), { expiresAt: this.now() + RESERVATION_LIFETIME_S * 1000, family });
  }

  /**
   * A packet from a client (one UDP datagram, or one frame of a TCP/TLS stream). The socket
   * layer may pass the 5-tuple's key when it already has it (fiveTupleKey(client)).
   */
  handleClientPacket(client: FiveTuple, packet: Buffer, tupleKey = fiveTupleKey(client)): TurnAction[] {
    try {
      if (looksLikeChannelData(packet)) return handleClientChannelData(this, tupleKey, packet);
      if (!looksLikeStun(packet)) {
        this.counters.malformedPackets++;
        return [];
      }
      return this.dispatch({ request: decodeStunMessage(packet), client, tupleKey });
    } catch (err) {
      if (err instanceof StunDecodeError) this.counters.malformedPackets++;
      else this.errorLog.error({ err }, 'turn: unexpected error handling a client packet');
      return [];
    }
  }

  /** A datagram that arrived on the relayed address of allocation `allocationId`. */
  handlePeerPacket(allocationId: number, peer: TransportAddress, data: Buffer): TurnAction[] {
    const allocation = this.table.get(allocationId);
    if (!allocation || allocation.state !== 'active') return [];
    const from = peer.family === 6 ? { ...peer, address: canonicalIp(peer.address) } : peer;
    return handlePeerData(this, allocation, from, data);
  }

  /** The socket layer opened the relay socket of a pending allocation. */
  relayOpened(allocationId: number, relay: TransportAddress, reserved: boolean): TurnAction[] {
    const pending = this.pending.get(allocationId);
    const allocation = this.table.get(allocationId);
    this.pending.delete(allocationId);
    if (!pending || !allocation) return [{ type: 'close-relay', allocationId }];
    return answerAllocate(this, pending, allocation, relay, reserved);
  }

  /** The socket layer could not open the relay socket: 508 (Insufficient Capacity), and forget the allocation. */
  relayFailed(allocationId: number): TurnAction[] {
    const pending = this.pending.get(allocationId);
    const allocation = this.table.get(allocationId);
    this.pending.delete(allocationId);
    if (allocation) this.table.delete(allocation);
    return pending ? this.error(pending.rc, ErrorCode.InsufficientCapacity) : [];
  }

  /** A TCP/TLS connection closed on arrival for being over a connection limit (the socket layer's count). */
  connectionRefused(): void {
    this.counters.refusedConnections++;
  }

  /** A TCP/TLS client went away: its allocation goes too (RFC 8656 §3.1). */
  clientClosed(client: FiveTuple): TurnAction[] {
    const allocation = this.table.byTupleKey(fiveTupleKey(client));
    return allocation ? this.deleteAllocation(allocation).filter((a) => a.type !== 'close-client') : [];
  }

  /** Whether `client` holds an allocation (the socket layer's idle check). */
  hasAllocation(client: FiveTuple): boolean {
    return this.table.byTupleKey(fiveTupleKey(client)) !== undefined;
  }

  /** Housekeeping: expire allocations, permissions, channels and reservations. */
  tick(): TurnAction[] {
    const now = this.now();
    const actions: TurnAction[] = [];
    for (const allocation of [...this.table.values()]) {
      if (now >= allocation.expiresAt) actions.push(...this.deleteAllocation(allocation));
      else allocation.expire(now);
    }
    for (const [hex, reservation] of this.reservations) {
      if (now >= reservation.expiresAt) {
        this.reservations.delete(hex);
        actions.push({ type: 'release-reservation', token: Buffer.from(hex, 'hex') });
      }
    }
    return actions;
  }

  /**
   * Delete an allocation (expiry, Refresh with lifetime 0, client gone): close its relay socket
   * and, over TCP/TLS, the client connection, which exists only to carry this allocation
   * (RFC 8656 §3.1: a 5-tuple holds at most one); otherwise one user could keep connections
   * open without limit. Put these actions after any response still owed to the client.
   */
  deleteAllocation(allocation: Allocation): TurnAction[] {
    const found = this.table.get(allocation.id);
    if (!found) return [];
    this.table.delete(found);
    this.pending.delete(found.id);
    const closeRelay: TurnAction = { type: 'close-relay', allocationId: found.id };
    return found.fiveTuple.transport === 'udp' ? [closeRelay] : [closeRelay, { type: 'close-client', to: found.fiveTuple }];
  }

  stats(): TurnStats {
    const now = this.now();
    let permissions = 0;
    let channels = 0;
    for (const allocation of this.table.values()) {
      permissions += allocation.permissionCount(now);
      channels += allocation.channelCount(now);
    }
    return { ...this.counters, errorResponses: { ...this.counters.errorResponses }, allocations: this.table.size, permissions, channels };
  }

  /** Encode a response to `rc`: SOFTWARE, integrity when authenticated, FINGERPRINT if the request had one. */
  response(rc: RequestContext, cls: MessageClassCode, fill?: (m: StunMessage) => void): Buffer {
    const message = new StunMessage(rc.request.method, cls, rc.request.transactionId);
    fill?.(message);
    if (this.options.software) message.add('SOFTWARE', this.options.software);
    return message.encode({
      ...(rc.auth && { integrity: { key: rc.auth.key, algorithm: rc.auth.integrity } }),
      fingerprint: rc.request.has('FINGERPRINT'),
    });
  }

  success(rc: RequestContext, fill?: (m: StunMessage) => void): TurnAction[] {
    return [{ type: 'send-to-client', to: rc.client, data: this.response(rc, MessageClass.SuccessResponse, fill) }];
  }

  error(rc: RequestContext, code: number, fill?: (m: StunMessage) => void): TurnAction[] {
    this.counters.errorResponses[code] = (this.counters.errorResponses[code] ?? 0) + 1;
    const data = this.response(rc, MessageClass.ErrorResponse, (m) => {
      m.add('ERROR-CODE', { code, reason: reasonPhrase(code) });
      fill?.(m);
    });
    return [{ type: 'send-to-client', to: rc.client, data }];
  }

  private dispatch(rc: RequestContext): TurnAction[] {
    const { request } = rc;
    if (request.cls === MessageClass.Indication) {
      // RFC 8489 §6.3.2: an indication with unknown comprehension-required attributes is discarded.
      if (request.unknownComprehensionRequired().length > 0) return [];
      return request.method === Method.Send ? handleSendIndication(this, rc) : [];
    }
    if (request.cls !== MessageClass.Request) return [];
    try {
      // RFC 8489 §6.3.1: unknown comprehension-required attributes in a request → 420.
      const unknown = request.unknownComprehensionRequired();
      if (unknown.length > 0) return this.error(rc, ErrorCode.UnknownAttribute, (m) => m.add('UNKNOWN-ATTRIBUTES', unknown));
      if (request.method === Method.Binding) return handleBinding(this, rc);
      const handler = AUTHENTICATED_HANDLERS.get(request.method);
      if (!handler) return this.error(rc, ErrorCode.BadRequest);
      const auth = authenticate(request, canonicalIp(rc.client.clientAddress), this.now(), {
        realm: this.options.realm,
        store: this.store,
        nonces: this.nonces,
      });
      if (!auth.ok) return this.reject(rc, auth);
      return handler(this, { ...rc, auth });
    } catch (err) {
      // A malformed attribute (decoded lazily, so only now) is the client's fault: 400, and a
      // debug line without a stack, since anyone can send one per packet.
      if (err instanceof StunDecodeError) {
        this.deps.logger?.debug({ reason: err.message, method: request.method }, 'turn: malformed request attribute');
        return this.error(rc, ErrorCode.BadRequest);
      }
      this.errorLog.error({ err }, 'turn: unexpected error handling a request');
      return this.error(rc, ErrorCode.ServerError);
    }
  }

  private reject(rc: RequestContext, rejected: Rejected): TurnAction[] {
    if (rejected.failure) this.counters.authFailures++;
    if (!rejected.challenge) return this.error(rc, rejected.code);
    const nonce = this.nonces.issue(canonicalIp(rc.client.clientAddress), this.now());
    return this.error(rc, rejected.code, (m) => {
      m.add('REALM', this.options.realm);
      m.add('NONCE', nonce);
      m.add('PASSWORD-ALGORITHMS', [...OFFERED_PASSWORD_ALGORITHMS]);
    });
  }
}

type Handler = (ctx: TurnContext, rc: AuthenticatedRequest) => TurnAction[];

const AUTHENTICATED_HANDLERS = new Map<number, Handler>([
  [Method.Allocate, handleAllocate],
  [Method.Refresh, handleRefresh],
  [Method.CreatePermission, handleCreatePermission],
  [Method.ChannelBind, handleChannelBind],
]);
