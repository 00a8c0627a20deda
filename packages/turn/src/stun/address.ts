import { isIPv4, isIPv6 } from 'node:net';
import { StunDecodeError } from '../errors.js';
import { MAGIC_COOKIE } from './constants.js';

/** An IP address and port, as carried by the address attributes of RFC 8489 §14.1–14.2. */
export interface TransportAddress {
  readonly family: 4 | 6;
  readonly address: string;
  readonly port: number;
}

/** RFC 8489 §14.1: address family octet values. */
const FAMILY_IPV4 = 0x01;
const FAMILY_IPV6 = 0x02;

/** The family of a textual IP address, or undefined when it is not one. */
export function ipFamily(ip: string): 4 | 6 | undefined {
  if (isIPv4(ip)) return 4;
  if (isIPv6(ip)) return 6;
  return undefined;
}

/** Parse a textual IPv4 or IPv6 address into network-order bytes. */
export function ipToBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new StunDecodeError(`not an IP address: ${ip}`);
  const out = Buffer.alloc(16);
  let text = ip.split('%')[0] ?? ip;
  // An embedded dotted quad (e.g. ::ffff:1.2.3.4) becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipToBytes(tail);
    text = `${text.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = 8 - headGroups.length - restGroups.length;
  const groups = rest === undefined ? headGroups : [...headGroups, ...Array<string>(zeros).fill('0'), ...restGroups];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** Format network-order bytes as text; IPv6 in the RFC 5952 canonical form. */
export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) throw new StunDecodeError(`bad address length ${bytes.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // RFC 5952 §4.2: compress the longest run (≥ 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The canonical text of an IP address, so that map keys compare equal. */
export function canonicalIp(ip: string): string {
  return isIPv4(ip) ? ip : bytesToIp(ipToBytes(ip));
}

/** RFC 8489 §14.1 MAPPED-ADDRESS value layout (also the base of the XOR variants). */
export function encodeAddress(addr: TransportAddress): Buffer {
  const ip = ipToBytes(addr.address);
  const out = Buffer.alloc(4 + ip.length);
  out[1] = ip.length === 4 ? FAMILY_IPV4 : FAMILY_IPV6;
  out.writeUInt16BE(addr.port, 2);
  ip.copy(out, 4);
  return out;
}

/** Check the family and length of an RFC 8489 §14.1 address value; throws StunDecodeError. */
function addressFamily(value: Buffer): 4 | 6 {
  if (value.length < 4) throw new StunDecodeError('address attribute too short');
  const family = value[1];
  const expected = family === FAMILY_IPV4 ? 8 : family === FAMILY_IPV6 ? 20 : -1;
  if (expected < 0) throw new StunDecodeError(`unknown address family ${family}`);
  if (value.length !== expected) throw new StunDecodeError('address attribute has wrong length');
  return family === FAMILY_IPV4 ? 4 : 6;
}

/** Decode an RFC 8489 §14.1 address value. */
export function decodeAddress(value: Buffer): TransportAddress {
  return {
    family: addressFamily(value),
    port: value.readUInt16BE(2),
    address: bytesToIp(value.subarray(4)),
  };
}

/** XOR the port and address of an encoded address in place (RFC 8489 §14.2). */
function xorInPlace(value: Buffer, transactionId: Buffer): Buffer {
  value.writeUInt16BE(value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16), 2);
  const key = Buffer.alloc(16);
  key.writeUInt32BE(MAGIC_COOKIE, 0);
  transactionId.copy(key, 4);
  for (let i = 4; i < value.length; i++) value[i] = (value[i] ?? 0) ^ (key[i - 4] ?? 0);
  return value;
}

/** RFC 8489 §14.2 XOR-MAPPED-ADDRESS (and RFC 8656's XOR-PEER/RELAYED-ADDRESS) encoding. */
export function encodeXorAddress(addr: TransportAddress, transactionId: Buffer): Buffer {
  return xorInPlace(encodeAddress(addr), transactionId);
}

/** Decode an RFC 8489 §14.2 XOR address value. */
export function decodeXorAddress(value: Buffer, transactionId: Buffer): TransportAddress {
  addressFamily(value); // before un-XORing: the port it reads sits at bytes 2–3
  return decodeAddress(xorInPlace(Buffer.from(value), transactionId));
}

/** `ip:port` (IPv6 in brackets), for logs and map keys. */
export function formatAddress(addr: { address: string; port: number }): string {
  return addr.address.includes(':') ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`;
}
