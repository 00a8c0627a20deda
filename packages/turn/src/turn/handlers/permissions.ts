import { type TransportAddress, canonicalIp } from '../../stun/address.js';
import { isValidChannelNumber } from '../../stun/channel-data.js';
import { ErrorCode } from '../../stun/constants.js';
import type { TurnAction } from '../actions.js';
import { type Allocation, peerKey } from '../allocation.js';
import type { AuthenticatedRequest, TurnContext } from '../context.js';

/** The allocation of an authenticated request, or the error to send (437 / 441). */
function ownAllocation(ctx: TurnContext, rc: AuthenticatedRequest): Allocation | TurnAction[] {
  const allocation = ctx.allocationOn(rc.tupleKey);
  if (!allocation || allocation.state !== 'active') return ctx.error(rc, ErrorCode.AllocationMismatch);
  if (allocation.owner.username !== rc.auth.owner.username) return ctx.error(rc, ErrorCode.WrongCredentials);
  return allocation;
}

/** 443 when the peer's family is not the relay's, 403 when the peer filter refuses it. */
function checkPeer(ctx: TurnContext, rc: AuthenticatedRequest, allocation: Allocation, peer: TransportAddress): TurnAction[] | undefined {
  if (peer.family !== allocation.family) return ctx.error(rc, ErrorCode.PeerAddressFamilyMismatch);
  if (!ctx.isPeerAllowed(peer.address)) {
    ctx.count('refusedPeers');
    return ctx.error(rc, ErrorCode.Forbidden);
  }
  return undefined;
}

/** RFC 8656 §9.2 receiving a CreatePermission request. */
export function handleCreatePermission(ctx: TurnContext, rc: AuthenticatedRequest): TurnAction[] {
  const allocation = ownAllocation(ctx, rc);
  if (Array.isArray(allocation)) return allocation;
  // "The CreatePermission request MUST contain at least one XOR-PEER-ADDRESS attribute ...
  //  If not, 400."
  const peers = rc.request.getAll('XOR-PEER-ADDRESS').map((p) => ({ ...p, address: canonicalIp(p.address) }));
  if (peers.length === 0) return ctx.error(rc, ErrorCode.BadRequest);
  // "If an XOR-PEER-ADDRESS attribute contains an address of an address family that is not
  //  the same as that of a relayed transport address for the allocation, the server MUST
  //  generate an error response with the 443 response code." The server "MAY impose
  //  restrictions on the IP address allowed in the XOR-PEER-ADDRESS attribute; if a value is
  //  not allowed, the server rejects the request with a 403 (Forbidden) error."
  for (const peer of peers) {
    const refused = checkPeer(ctx, rc, allocation, peer);
    if (refused) return refused;
  }
  // "If the message is valid ... the server installs or refreshes a permission for the IP
  //  address contained in each XOR-PEER-ADDRESS attribute" (all or nothing).
  const now = ctx.now();
  for (const peer of peers) allocation.installPermission(peer.address, now);
  return ctx.success(rc);
}

/** RFC 8656 §12.2 receiving a ChannelBind request. */
export function handleChannelBind(ctx: TurnContext, rc: AuthenticatedRequest): TurnAction[] {
  const allocation = ownAllocation(ctx, rc);
  if (Array.isArray(allocation)) return allocation;
  // "The request contains both a CHANNEL-NUMBER and an XOR-PEER-ADDRESS attribute; the
  //  channel number is in the range 0x4000 through 0x4FFF (inclusive)" — otherwise 400.
  //  With allowLegacyChannelNumbers, RFC 5766's 0x4000–0x7FFF is accepted.
  const channel = rc.request.get('CHANNEL-NUMBER');
  const rawPeer = rc.request.get('XOR-PEER-ADDRESS');
  if (channel === undefined || !rawPeer || !isValidChannelNumber(channel, ctx.options.allowLegacyChannelNumbers)) return ctx.error(rc, ErrorCode.BadRequest);
  const peer = { ...rawPeer, address: canonicalIp(rawPeer.address) };
  const refused = checkPeer(ctx, rc, allocation, peer);
  if (refused) return refused;
  // "The channel number is not currently bound to a different transport address (same
  //  transport address is OK); the transport address is not currently bound to a different
  //  channel number." A binding in its post-expiry cooldown still counts.
  if (!allocation.canBind(channel, peerKey(peer))) return ctx.error(rc, ErrorCode.BadRequest);
  // "If the request is valid ... the server creates or refreshes the channel binding ... the
  //  server MUST also install or refresh a permission for the IP address."
  allocation.bind(channel, peer, ctx.now());
  return ctx.success(rc);
}
