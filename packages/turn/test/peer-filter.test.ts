import { describe, expect, it } from 'vitest';
import { PeerFilter } from '../src/index.js';
import { embeddedIpv4 } from '../src/turn/peer-filter.js';

/**
 * IPv6 peers whose prefix embeds an IPv4 address (issue 13 item 5): a NAT64 gateway, 6to4 relay
 * or SIIT translator would carry the datagram to that IPv4 address, so the IPv4 rules decide.
 * Each row: prefix, IPv6 peer, the IPv4 inside it, and whether the default filter allows it.
 */
const embedding: [prefix: string, peer: string, ipv4: string, allowed: boolean][] = [
  ['NAT64 64:ff9b::/96', '64:ff9b::8.8.8.8', '8.8.8.8', true],
  ['NAT64 64:ff9b::/96', '64:ff9b::10.1.2.3', '10.1.2.3', false],
  ['NAT64 64:ff9b::/96', '64:ff9b::7f00:1', '127.0.0.1', false],
  ['NAT64 64:ff9b::/96', '64:ff9b::169.254.169.254', '169.254.169.254', false],
  ['NAT64 64:ff9b::/96', '64:ff9b::192.168.1.1', '192.168.1.1', false],
  ['6to4 2002::/16', '2002:808:808::1', '8.8.8.8', true],
  ['6to4 2002::/16', '2002:a01:203::1', '10.1.2.3', false],
  ['6to4 2002::/16', '2002:7f00:1:1::1', '127.0.0.1', false],
  ['6to4 2002::/16', '2002:ac14:1::', '172.20.0.1', false],
  ['IPv4-compatible ::/96', '::8.8.8.8', '8.8.8.8', true],
  ['IPv4-compatible ::/96', '::10.1.2.3', '10.1.2.3', false],
  ['IPv4-compatible ::/96', '::127.0.0.1', '127.0.0.1', false],
  ['IPv4-mapped ::ffff:0:0/96', '::ffff:8.8.8.8', '8.8.8.8', true],
  ['IPv4-mapped ::ffff:0:0/96', '::ffff:10.1.2.3', '10.1.2.3', false],
  ['IPv4-mapped ::ffff:0:0/96', '::ffff:127.0.0.1', '127.0.0.1', false],
  ['SIIT ::ffff:0:0:0/96', '::ffff:0:8.8.8.8', '8.8.8.8', true],
  ['SIIT ::ffff:0:0:0/96', '::ffff:0:10.1.2.3', '10.1.2.3', false],
  ['SIIT ::ffff:0:0:0/96', '::ffff:0:7f00:1', '127.0.0.1', false],
  ['SIIT ::ffff:0:0:0/96', '::ffff:0:100.64.0.1', '100.64.0.1', false],
];

describe('PeerFilter: IPv6 prefixes that embed IPv4 follow the IPv4 rules', () => {
  const filter = new PeerFilter();

  it.each(embedding)('%s: %s embeds %s → allowed %s', (_prefix, peer, ipv4, allowed) => {
    expect(embeddedIpv4(peer)).toBe(ipv4);
    expect(filter.isAllowed(ipv4)).toBe(allowed); // the IPv4 rule the IPv6 peer must follow
    expect(filter.isAllowed(peer)).toBe(allowed);
  });

  it('an allowPeers entry for the IPv4 range allows it through every embedding too', () => {
    const loose = new PeerFilter(['10.0.0.0/8']);
    for (const peer of ['64:ff9b::10.1.2.3', '2002:a01:203::1', '::10.1.2.3', '::ffff:10.1.2.3', '::ffff:0:10.1.2.3']) {
      expect(loose.isAllowed(peer), peer).toBe(true);
    }
    expect(loose.isAllowed('64:ff9b::127.0.0.1')).toBe(false);
  });
});

describe('PeerFilter: IPv6 ranges refused whatever they carry', () => {
  it.each([
    ['NAT64 local-use 64:ff9b:1::/48 (IPv4 position is site-specific)', '64:ff9b:1::8.8.8.8'],
    ['NAT64 local-use 64:ff9b:1::/48', '64:ff9b:1:808:808::'],
    ['NAT64 local-use 64:ff9b:1::/48', '64:ff9b:1::10.1.2.3'],
    ['site-local fec0::/10', 'fec0::1'],
    ['site-local fec0::/10', 'feff::8.8.8.8'],
    ['discard 100::/64', '100::1'],
    ['discard 100::/64', '100::8.8.8.8'],
    ['Teredo 2001::/32', '2001:0:808:808::f7f7:f7f7'],
    ['IETF protocol assignments 2001::/23', '2001:1ff::1'],
    ['unspecified', '::'],
    ['loopback', '::1'],
    ['unique local', 'fd00::1'],
    ['link-local', 'fe80::1'],
    ['multicast', 'ff02::1'],
  ])('%s: %s → refused', (_range, peer) => {
    expect(new PeerFilter().isAllowed(peer)).toBe(false);
  });

  it.each([
    ['global unicast', '2001:4860:4860::8888'],
    ['global unicast', '2a00:1450:4001::1'],
    ['just past 2001::/23', '2001:200::1'],
    ['just past 100::/64', '100:0:0:1::1'],
  ])('%s %s → allowed', (_what, peer) => {
    expect(new PeerFilter().isAllowed(peer)).toBe(true);
  });

  it('allowPeers still opens a denied IPv6 range explicitly', () => {
    expect(new PeerFilter(['64:ff9b:1::/48']).isAllowed('64:ff9b:1::10.1.2.3')).toBe(true);
  });
});
