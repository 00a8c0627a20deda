import { BlockList } from 'node:net';
import { invalidOptions } from '../errors.js';
import { bytesToIp, ipFamily, ipToBytes } from '../stun/address.js';

/**
 * Peer ranges refused by default (RFC 8656 §21.3 "Protection against attacks on internal
 * networks"), after coturn's recommended `denied-peer-ip` list: unspecified, "this network",
 * loopback, RFC 1918 private, CGNAT shared space, link-local, multicast, reserved/broadcast, and
 * the IPv6 equivalents. The IPv6 list also holds the ranges that are not global and cannot be
 * judged by an embedded IPv4 address (see IPV4_EMBEDDING_PREFIXES for the ones that can).
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
  // RFC 8215 local-use NAT64: the operator picks where the IPv4 address sits (any RFC 6052
  // prefix length up to /96), so it cannot be decoded; and it only exists on local networks.
  '64:ff9b:1::/48',
  // RFC 6666 discard-only.
  '100::/64',
  // RFC 2928 IETF protocol assignments (Teredo 2001::/32 among them: an obfuscated IPv4 inside).
  '2001::/23',
  'fc00::/7',
  'fe80::/10',
  // RFC 3879 deprecated site-local: still routed inside some old sites.
  'fec0::/10',
  'ff00::/8',
];

/**
 * IPv6 prefixes that carry an IPv4 address (`offset`: its first byte). A peer there is reached
 * through that IPv4 address (a NAT64 gateway, a 6to4 relay, a SIIT translator or the host's own
 * IPv4 stack), so it is allowed only when the IPv4 rules allow the embedded address.
 */
const IPV4_EMBEDDING_PREFIXES: readonly { readonly cidr: string; readonly offset: number }[] = [
  { cidr: '::/96', offset: 12 }, // RFC 4291 §2.5.5.1 IPv4-compatible (deprecated)
  { cidr: '::ffff:0:0/96', offset: 12 }, // RFC 4291 §2.5.5.2 IPv4-mapped
  { cidr: '::ffff:0:0:0/96', offset: 12 }, // RFC 2765 SIIT IPv4-translated
  { cidr: '64:ff9b::/96', offset: 12 }, // RFC 6052 NAT64 well-known prefix
  { cidr: '2002::/16', offset: 2 }, // RFC 3056 6to4: 2002:AABB:CCDD::/48
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

const EMBEDDING = IPV4_EMBEDDING_PREFIXES.map(({ cidr, offset }) => ({ list: toBlockList([cidr]), offset }));

/** The IPv4 address inside an IPv6 address of IPV4_EMBEDDING_PREFIXES, if it is one. */
export function embeddedIpv4(ipv6: string): string | undefined {
  for (const { list, offset } of EMBEDDING) {
    if (list.check(ipv6, 'ipv6')) return bytesToIp(ipToBytes(ipv6).subarray(offset, offset + 4));
  }
  return undefined;
}

/**
 * Decides which peer addresses an allocation may talk to: allow-list first, then deny-list,
 * then, for an IPv6 address that embeds an IPv4 one, the same decision for that IPv4 address.
 */
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
    if (this.deny.check(ip, type)) return false;
    const ipv4 = family === 6 ? embeddedIpv4(ip) : undefined;
    return ipv4 === undefined || this.isAllowed(ipv4);
  }
}
