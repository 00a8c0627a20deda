import type { TransportAddress } from '../../stun/address.js';
import { canonicalIp } from '../../stun/address.js';
import { decodeChannelData, encodeChannelData } from '../../stun/channel-data.js';
import { Method, MessageClass } from '../../stun/constants.js';
import { StunMessage } from '../../stun/message.js';
import type { TurnAction } from '../actions.js';
import { type Allocation, peerKey } from '../allocation.js';
import type { RequestContext, TurnContext } from '../context.js';
import { isStream } from '../five-tuple.js';

const NONE: TurnAction[] = [];

/** Spend the allocation's bandwidth budget; false means drop (and count) the datagram. */
function withinBudget(ctx: TurnContext, allocation: Allocation, bytes: number, now: number): boolean {
  if (!allocation.bucket || allocation.bucket.take(bytes, now)) return true;
  ctx.count('droppedBandwidth');
  return false;
}

function toPeer(ctx: TurnContext, allocation: Allocation, peer: TransportAddress, data: Buffer): TurnAction[] {
  ctx.relayed('to-peer', data.length);
  return [{ type: 'send-to-peer', allocationId: allocation.id, peer, data }];
}

/** RFC 8656 §11.2 receiving a Send indication. Indications are never answered; problems drop it. */
export function handleSendIndication(ctx: TurnContext, rc: RequestContext): TurnAction[] {
  const allocation = ctx.allocationOn(rc.tupleKey);
  if (!allocation || allocation.state !== 'active') return NONE;
  // "If the Send indication contains no XOR-PEER-ADDRESS or no DATA attribute, discard it."
  let peer: TransportAddress | undefined;
  let data: Buffer | undefined;
  try {
    peer = rc.request.get('XOR-PEER-ADDRESS');
    data = rc.request.get('DATA');
  } catch {
    ctx.count('malformedPackets');
    return NONE;
  }
  if (!peer || !data || peer.family !== allocation.family) return NONE;
  // "If the server is unable to set the DF bit on outgoing UDP datagrams when this attribute is
  //  present, then the server acts as if the DONT-FRAGMENT attribute is an unknown
  //  comprehension-required attribute (and thus the Send indication is discarded)."
  if (rc.request.has('DONT-FRAGMENT')) return NONE;
  const ip = canonicalIp(peer.address);
  const now = ctx.now();
  // "the server MUST ... check ... that there is a permission installed for the IP address
  //  contained in the XOR-PEER-ADDRESS attribute. If no such permission exists, the message is
  //  discarded." Peers we refuse never get a permission; count them.
  if (!allocation.hasPermission(ip, now)) {
    if (!ctx.isPeerAllowed(ip)) ctx.count('refusedPeers');
    else ctx.count('droppedNoPermission');
    return NONE;
  }
  if (!withinBudget(ctx, allocation, data.length, now)) return NONE;
  return toPeer(ctx, allocation, { ...peer, address: ip }, data);
}

/** RFC 8656 §12.5 receiving a ChannelData message from the client. */
export function handleClientChannelData(ctx: TurnContext, tupleKey: string, packet: Buffer): TurnAction[] {
  const message = decodeChannelData(packet);
  if (!message) {
    ctx.count('malformedPackets');
    return NONE;
  }
  const allocation = ctx.allocationOn(tupleKey);
  if (!allocation || allocation.state !== 'active') return NONE;
  const now = ctx.now();
  // "If the ChannelData message is received on a channel that is not bound to any peer, then
  //  the message is silently discarded."
  const binding = allocation.channelByNumber(message.channel, now);
  if (!binding) {
    ctx.count('droppedNoPermission');
    return NONE;
  }
  if (!withinBudget(ctx, allocation, message.data.length, now)) return NONE;
  return toPeer(ctx, allocation, binding.peer, message.data);
}

/**
 * RFC 8656 §11.3 / §12.6: a datagram from a peer to the relayed address. Without a permission
 * for the peer IP it is dropped; with a channel bound to the peer it goes as ChannelData,
 * otherwise as a Data indication.
 */
export function handlePeerData(ctx: TurnContext, allocation: Allocation, peer: TransportAddress, data: Buffer): TurnAction[] {
  const now = ctx.now();
  if (!allocation.hasPermission(peer.address, now)) {
    ctx.count('droppedNoPermission');
    return NONE;
  }
  if (!withinBudget(ctx, allocation, data.length, now)) return NONE;
  const binding = allocation.channelByPeer(peerKey(peer), now);
  const to = allocation.fiveTuple;
  const packet = binding
    ? encodeChannelData(binding.channel, data, isStream(to))
    : new StunMessage(Method.Data, MessageClass.Indication).add('XOR-PEER-ADDRESS', peer).add('DATA', data).encode();
  ctx.relayed('from-peer', data.length);
  return [{ type: 'send-to-client', to, data: packet }];
}
