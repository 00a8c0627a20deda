import { BANDWIDTH_BURST_SECONDS } from '../../defaults.js';
import type { TransportAddress } from '../../stun/address.js';
import { Attributes } from '../../stun/attributes.js';
import { ErrorCode, MessageClass, TRANSPORT_UDP } from '../../stun/constants.js';
import type { TurnAction } from '../actions.js';
import { Allocation } from '../allocation.js';
import type { AuthenticatedRequest, PendingAllocate, RequestContext, TurnContext } from '../context.js';
import { TokenBucket } from '../token-bucket.js';

/**
 * RFC 8656 §7.2 / §7.3 "desired lifetime": zero stays zero (Refresh deletes); otherwise the
 * requested value capped at maxLifetimeSeconds, and never below defaultLifetimeSeconds.
 */
function desiredLifetime(ctx: TurnContext, requested: number | undefined): number {
  const { defaultLifetimeSeconds, maxLifetimeSeconds } = ctx.options;
  if (requested === 0) return 0;
  if (requested === undefined) return defaultLifetimeSeconds;
  return Math.max(defaultLifetimeSeconds, Math.min(requested, maxLifetimeSeconds));
}

/** RFC 8656 §7.2 receiving an Allocate request. */
export function handleAllocate(ctx: TurnContext, rc: AuthenticatedRequest): TurnAction[] {
  const { request, auth } = rc;
  // 2. "The server checks if the 5-tuple is currently in use by an existing allocation. If
  //    yes, the server rejects the request with a 437 (Allocation Mismatch) error" — unless it
  //    is a retransmission of the request that created it, which gets the same response.
  const existing = ctx.allocationOn(rc.tupleKey);
  if (existing) {
    if (!existing.createTransactionId.equals(request.transactionId)) return ctx.error(rc, ErrorCode.AllocationMismatch);
    return existing.cachedResponse ? [{ type: 'send-to-client', to: rc.client, data: existing.cachedResponse }] : [];
  }
  // 3. "The server checks if the request contains a REQUESTED-TRANSPORT attribute. If the
  //    REQUESTED-TRANSPORT attribute is not included or is malformed, the server rejects the
  //    request with a 400 (Bad Request) error. Otherwise, if the attribute indicates an
  //    unsupported transport protocol, the server rejects the request with a 442."
  const transport = request.get('REQUESTED-TRANSPORT');
  if (transport === undefined) return ctx.error(rc, ErrorCode.BadRequest);
  if (transport !== TRANSPORT_UDP) return ctx.error(rc, ErrorCode.UnsupportedTransportProtocol);
  // 4. "The request may contain a DONT-FRAGMENT attribute. If it does, but the server does not
  //    support sending UDP datagrams with the DF bit set to 1, then the server treats the
  //    DONT-FRAGMENT attribute in the Allocate request as an unknown comprehension-required
  //    attribute." Node's dgram cannot set DF, so: 420.
  if (request.has('DONT-FRAGMENT')) {
    return ctx.error(rc, ErrorCode.UnknownAttribute, (m) => m.add('UNKNOWN-ATTRIBUTES', [Attributes['DONT-FRAGMENT'].type]));
  }
  // 5. RESERVATION-TOKEN excludes EVEN-PORT and REQUESTED-ADDRESS-FAMILY (400); an unknown or
  //    expired token gets 508 (Insufficient Capacity).
  const token = request.get('RESERVATION-TOKEN');
  const evenPort = request.get('EVEN-PORT');
  const requestedFamily = request.get('REQUESTED-ADDRESS-FAMILY');
  if (token && (evenPort || requestedFamily)) return ctx.error(rc, ErrorCode.BadRequest);
  const reservedFamily = token ? ctx.reservedFamily(token) : undefined;
  if (token && reservedFamily === undefined) return ctx.error(rc, ErrorCode.InsufficientCapacity);
  // 7. "If the server does not support the address family requested by the client in
  //    REQUESTED-ADDRESS-FAMILY, it MUST reject the request with a 440."
  const family = reservedFamily ?? requestedFamily ?? 4;
  if (family !== ctx.options.relayFamily) return ctx.error(rc, ErrorCode.AddressFamilyNotSupported);
  // 8. "At any point, the server MAY choose to reject the request with a 486 (Allocation Quota
  //    Reached) error if it feels the client is trying to exceed some locally defined
  //    allocation quota." Per user, and in total.
  if (!ctx.hasQuotaFor(auth.owner.quotaKey)) {
    ctx.count('quotaRejections');
    return ctx.error(rc, ErrorCode.AllocationQuotaReached);
  }
  const { bandwidthBytesPerSecond } = ctx.options;
  const now = ctx.now();
  const lifetime = desiredLifetime(ctx, request.get('LIFETIME'));
  const bucket =
    bandwidthBytesPerSecond > 0
      ? new TokenBucket(bandwidthBytesPerSecond, Math.max(bandwidthBytesPerSecond * BANDWIDTH_BURST_SECONDS, 65_535), now)
      : undefined;
  const reserveToken = evenPort?.reserve ? ctx.randomBytes(8) : undefined;
  const { id } = ctx.addAllocation(
    (id) => new Allocation(id, rc.client, rc.tupleKey, auth.owner, family, request.transactionId, now + lifetime * 1000, bucket),
    { rc, reserveToken },
    token,
  );
  return [
    {
      type: 'open-relay',
      allocationId: id,
      family,
      evenPort: evenPort !== undefined,
      ...(reserveToken && { reserveToken }),
      ...(token && { useReservation: token }),
    },
  ];
}

/** The relay socket of a pending allocation is open: send the Allocate success response. */
export function answerAllocate(ctx: TurnContext, pending: PendingAllocate, allocation: Allocation, relay: TransportAddress, reserved: boolean): TurnAction[] {
  allocation.state = 'active';
  allocation.relayAddress = relay;
  ctx.count('allocationsCreated');
  const token = reserved ? pending.reserveToken : undefined;
  if (token) ctx.reserve(token, allocation.family);
  const { rc } = pending;
  const now = ctx.now();
  // "The server ... MUST include XOR-RELAYED-ADDRESS, LIFETIME, RESERVATION-TOKEN (if a
  //  second relayed transport address was reserved) and XOR-MAPPED-ADDRESS."
  const data = ctx.response(rc, MessageClass.SuccessResponse, (m) => {
    m.add('XOR-RELAYED-ADDRESS', relay);
    m.add('LIFETIME', Math.round((allocation.expiresAt - now) / 1000));
    if (token) m.add('RESERVATION-TOKEN', token);
    m.add('XOR-MAPPED-ADDRESS', clientAddress(rc));
  });
  allocation.cachedResponse = data;
  return [{ type: 'send-to-client', to: rc.client, data }];
}

/** RFC 8656 §7.3 receiving a Refresh request. */
export function handleRefresh(ctx: TurnContext, rc: AuthenticatedRequest): TurnAction[] {
  const allocation = ctx.allocationOn(rc.tupleKey);
  if (!allocation || allocation.state !== 'active') return ctx.error(rc, ErrorCode.AllocationMismatch);
  // RFC 8656 §5: requests on an allocation must use the credentials that created it (441).
  if (allocation.owner.username !== rc.auth.owner.username) return ctx.error(rc, ErrorCode.WrongCredentials);
  // "If the server receives a Refresh Request with a REQUESTED-ADDRESS-FAMILY attribute and
  //  the attribute value does not match the address family of the allocation, the server
  //  MUST reply with a 443 (Peer Address Family Mismatch) Refresh error response."
  const family = rc.request.get('REQUESTED-ADDRESS-FAMILY');
  if (family !== undefined && family !== allocation.family) return ctx.error(rc, ErrorCode.PeerAddressFamilyMismatch);
  const lifetime = desiredLifetime(ctx, rc.request.get('LIFETIME'));
  // "If the 'desired lifetime' is zero, then the request succeeds and the allocation is deleted."
  //  The response goes first: over TCP/TLS the deletion closes the connection after it.
  if (lifetime === 0) {
    return [...ctx.success(rc, (m) => m.add('LIFETIME', 0)), ...ctx.deleteAllocation(allocation)];
  }
  allocation.expiresAt = ctx.now() + lifetime * 1000;
  return ctx.success(rc, (m) => m.add('LIFETIME', lifetime));
}

export function clientAddress(rc: RequestContext): TransportAddress {
  const { clientAddress: address, clientPort: port } = rc.client;
  return { family: address.includes(':') ? 6 : 4, address, port };
}
