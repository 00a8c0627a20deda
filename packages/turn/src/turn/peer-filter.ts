import { BlockList } from 'node:net';
import { invalidOptions } from '../errors.js';
import { ipFamily } from '../stun/address.js';

/**
 * Peer ranges refused by default (RFC 8656 §21.3 "Protection against attacks on internal
 * networks"): unspecified, "this network", loopback, RFC 1918 private, CGNAT shared space,
 * link-local, multicast, reserved/broadcast, and the IPv6 equivalents. IPv4-mapped IPv6
 * addresses are checked against the IPv4 rules by BlockList itself.
 */
export const DEFAULT_DENIED_PEER_RANGES: readonly string[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
];

function parseCidr(cidr: string): { network: string; prefix: number; type: 'ipv4' | 'ipv6' } {
  const [network = '', prefixText] = cidr.trim().split('/');
  const family = ipFamily(network);
  if (!family) throw invalidOptions(`not a CIDR range: ${cidr}`);
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw invalidOptions(`bad prefix in ${cidr}`);
  return { network, prefix, type: family === 4 ? 'ipv4' : 'ipv6' };
}

function toBlockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const { network, prefix, type } = parseCidr(cidr);
    list.addSubnet(network, prefix, type);
  }
  return list;
}

/** Decides which peer addresses an allocation may talk to: allow-list first, then deny-list. */
export class PeerFilter {
  private readonly allow: BlockList;
  private readonly deny: BlockList;

  /** @param allowPeers CIDRs allowed even when inside a denied range (e.g. '127.0.0.0/8' in tests). */
  constructor(allowPeers: readonly string[] = [], deniedRanges: readonly string[] = DEFAULT_DENIED_PEER_RANGES) {
    this.allow = toBlockList(allowPeers);
    this.deny = toBlockList(deniedRanges);
  }

  isAllowed(ip: string): boolean {
    const family = ipFamily(ip);
    if (!family) return false;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (this.allow.check(ip, type)) return true;
    return !this.deny.check(ip, type);
  }
}
