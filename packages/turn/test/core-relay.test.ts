import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  MessageClass,
  Method,
  StunMessage,
  type TransportAddress,
  decodeChannelData,
  decodeStunMessage,
  encodeChannelData,
} from '../src/index.js';
import { CoreClient, PEER, errorCode, makeCore, responses, tuple } from './helpers/core-harness.js';

function sendIndication(peer: TransportAddress, data: Buffer): Buffer {
  return new StunMessage(Method.Send, MessageClass.Indication).add('XOR-PEER-ADDRESS', peer).add('DATA', data).encode();
}

function setup(overrides: Parameters<typeof makeCore>[0] = {}) {
  const h = makeCore(overrides);
  const client = CoreClient.rest(h, 'alice', tuple());
  client.allocate();
  const allocationId = 1;
  return { h, client, allocationId };
}

/** An active allocation on an IPv6 relay, with the default peer filter. */
function setupIpv6() {
  const h = makeCore({ relayFamily: 6, allowPeers: [] });
  const client = CoreClient.rest(h);
  client.challenge();
  const open = h.core.handleClientPacket(client.client, client.encode(client.build(Method.Allocate, [['REQUESTED-TRANSPORT', 17], ['REQUESTED-ADDRESS-FAMILY', 6]])));
  const id = open[0]?.type === 'open-relay' ? open[0].allocationId : -1;
  h.core.relayOpened(id, { family: 6, address: '2001:db8::1', port: 50000 }, false);
  return { h, client };
}

describe('peer protection (RFC 8656 §21.3)', () => {
  it.each([
    ['RFC 1918 10/8', '10.1.2.3'],
    ['RFC 1918 172.16/12', '172.20.0.1'],
    ['RFC 1918 192.168/16', '192.168.1.1'],
    ['unspecified', '0.0.0.0'],
    ['link-local', '169.254.10.10'],
    ['multicast', '224.0.0.251'],
    ['CGNAT shared space', '100.64.0.1'],
    ['broadcast', '255.255.255.255'],
  ])('CreatePermission to %s (%s) → 403, counted, nothing installed', (_name, address) => {
    const { h, client } = setup();
    const actions = client.request(Method.CreatePermission, [['XOR-PEER-ADDRESS', { family: 4, address, port: 1 }]]);
    expect(errorCode(actions)).toBe(ErrorCode.Forbidden);
    expect(h.core.stats()).toMatchObject({ permissions: 0, refusedPeers: 1 });
  });

  it.each([
    ['loopback', '::1'],
    ['unique local fc00::/7', 'fd00::1'],
    ['link-local', 'fe80::1'],
    ['multicast', 'ff02::1'],
    ['unspecified', '::'],
    ['IPv4-mapped private', '::ffff:10.0.0.1'],
    ['NAT64 to 10/8', '64:ff9b::10.1.2.3'],
    ['NAT64 local-use', '64:ff9b:1::8.8.8.8'],
    ['6to4 of 10/8', '2002:a01:203::1'],
    ['IPv4-compatible loopback', '::127.0.0.1'],
    ['SIIT private', '::ffff:0:192.168.1.1'],
    ['site-local', 'fec0::1'],
    ['discard-only', '100::1'],
  ])('IPv6 relay: CreatePermission and ChannelBind to %s (%s) → 403', (_name, address) => {
    const { h, client } = setupIpv6();
    const actions = client.request(Method.CreatePermission, [['XOR-PEER-ADDRESS', { family: 6, address, port: 1 }]]);
    expect(errorCode(actions)).toBe(ErrorCode.Forbidden);
    const bind = client.request(Method.ChannelBind, [['CHANNEL-NUMBER', 0x4000], ['XOR-PEER-ADDRESS', { family: 6, address, port: 1 }]]);
    expect(errorCode(bind)).toBe(ErrorCode.Forbidden);
    expect(h.core.stats()).toMatchObject({ permissions: 0, channels: 0 });
  });

  it('IPv6 relay: a NAT64 peer that embeds a public IPv4 address is allowed', () => {
    const { client } = setupIpv6();
    const peer = { family: 6 as const, address: '64:ff9b::8.8.8.8', port: 1 };
    expect(errorCode(client.request(Method.CreatePermission, [['XOR-PEER-ADDRESS', peer]]))).toBeUndefined();
    expect(errorCode(client.request(Method.ChannelBind, [['CHANNEL-NUMBER', 0x4000], ['XOR-PEER-ADDRESS', peer]]))).toBeUndefined();
  });

  it('loopback is refused by default and allowed by allowPeers', () => {
    const strict = setup({ allowPeers: [] });
    expect(errorCode(strict.client.request(Method.CreatePermission, [['XOR-PEER-ADDRESS', PEER]]))).toBe(ErrorCode.Forbidden);
    const loose = setup({ allowPeers: ['127.0.0.0/8'] });
    expect(errorCode(loose.client.request(Method.CreatePermission, [['XOR-PEER-ADDRESS', PEER]]))).toBeUndefined();
  });

  it('a public peer is allowed by default', () => {
    const { client } = setup({ allowPeers: [] });
    expect(errorCode(client.request(Method.CreatePermission, [['XOR-PEER-ADDRESS', { family: 4, address: '203.0.113.10', port: 5 }]]))).toBeUndefined();
  });

  it('one forbidden peer fails the whole CreatePermission (all or nothing)', () => {
    const { h, client } = setup();
    const actions = client.request(Method.CreatePermission, [
      ['XOR-PEER-ADDRESS', PEER],
      ['XOR-PEER-ADDRESS', { family: 4, address: '10.0.0.1', port: 1 }],
    ]);
    expect(errorCode(actions)).toBe(ErrorCode.Forbidden);
    expect(h.core.stats().permissions).toBe(0);
  });

  it('443 for an IPv6 peer on an IPv4 allocation; 400 without XOR-PEER-ADDRESS', () => {
    const { client } = setup();
    expect(errorCode(client.request(Method.CreatePermission, [['XOR-PEER-ADDRESS', { family: 6, address: '2001:db8::9', port: 1 }]]))).toBe(ErrorCode.PeerAddressFamilyMismatch);
    expect(errorCode(client.request(Method.CreatePermission))).toBe(ErrorCode.BadRequest);
  });

  it('Send indications with DONT-FRAGMENT or an unknown comprehension-required attribute are discarded', () => {
    const { client } = setup();
    client.request(Method.CreatePermission, [['XOR-PEER-ADDRESS', PEER]]);
    const withDf = new StunMessage(Method.Send, MessageClass.Indication).add('XOR-PEER-ADDRESS', PEER).add('DATA', Buffer.from('x')).add('DONT-FRAGMENT', true);
    expect(client.raw(withDf.encode())).toEqual([]);
    const withUnknown = new StunMessage(Method.Send, MessageClass.Indication).add('XOR-PEER-ADDRESS', PEER).add('DATA', Buffer.from('x')).addRaw(0x7777, Buffer.alloc(0));
    expect(client.raw(withUnknown.encode())).toEqual([]);
    expect(client.raw(sendIndication(PEER, Buffer.from('x')))).toHaveLength(1);
  });

  it('a Send indication to a forbidden peer is dropped silently and counted', () => {
    const { h, client } = setup();
    expect(client.raw(sendIndication({ family: 4, address: '192.168.0.1', port: 53 }, Buffer.from('x')))).toEqual([]);
    expect(h.core.stats()).toMatchObject({ refusedPeers: 1, packetsToPeers: 0 });
  });
});

describe('relaying in the core', () => {
  it('Send needs a permission; with one it becomes send-to-peer, and the peer reply a Data indication', () => {
    const { h, client, allocationId } = setup();
    expect(client.raw(sendIndication(PEER, Buffer.from('early')))).toEqual([]);
    client.request(Method.CreatePermission, [['XOR-PEER-ADDRESS', { ...PEER, port: 1 }]]);
    expect(client.raw(sendIndication(PEER, Buffer.from('hi')))).toEqual([{ type: 'send-to-peer', allocationId, peer: PEER, data: Buffer.from('hi') }]);
    const [indication] = h.core.handlePeerPacket(allocationId, { ...PEER, port: 9999 }, Buffer.from('yo'));
    expect(indication?.type).toBe('send-to-client');
    const m = decodeStunMessage(indication?.type === 'send-to-client' ? indication.data : Buffer.alloc(0));
    expect(m.method).toBe(Method.Data);
    expect(m.get('XOR-PEER-ADDRESS')).toEqual({ ...PEER, port: 9999 });
    expect(m.get('DATA')).toEqual(Buffer.from('yo'));
    expect(h.core.stats()).toMatchObject({ packetsToPeers: 1, bytesToPeers: 2, packetsFromPeers: 1, bytesFromPeers: 2 });
  });

  it('peer data without a permission is dropped; permissions expire after 300 s', () => {
    const { h, client, allocationId } = setup();
    expect(h.core.handlePeerPacket(allocationId, PEER, Buffer.from('x'))).toEqual([]);
    client.request(Method.CreatePermission, [['XOR-PEER-ADDRESS', PEER]]);
    expect(h.core.handlePeerPacket(allocationId, PEER, Buffer.from('x'))).toHaveLength(1);
    h.advance(300_001);
    h.core.tick();
    expect(h.core.handlePeerPacket(allocationId, PEER, Buffer.from('x'))).toEqual([]);
    expect(h.core.stats().permissions).toBe(0);
  });

  it('ChannelBind: ChannelData both ways, padded only for stream clients', () => {
    for (const transport of ['udp', 'tcp'] as const) {
      const h = makeCore();
      const client = CoreClient.rest(h, 'alice', tuple(transport));
      client.allocate();
      expect(errorCode(client.request(Method.ChannelBind, [['CHANNEL-NUMBER', 0x4000], ['XOR-PEER-ADDRESS', PEER]]))).toBeUndefined();
      expect(client.raw(encodeChannelData(0x4000, Buffer.from('abc'), transport === 'tcp'))).toEqual([{ type: 'send-to-peer', allocationId: 1, peer: PEER, data: Buffer.from('abc') }]);
      const [out] = h.core.handlePeerPacket(1, PEER, Buffer.from('abcde'));
      const data = out?.type === 'send-to-client' ? out.data : Buffer.alloc(0);
      expect(data.length).toBe(transport === 'tcp' ? 12 : 9);
      expect(decodeChannelData(data)).toEqual({ channel: 0x4000, data: Buffer.from('abcde') });
      // A different port of the same IP has the permission but no channel: Data indication.
      const [other] = h.core.handlePeerPacket(1, { ...PEER, port: 1234 }, Buffer.from('z'));
      expect(decodeStunMessage(other?.type === 'send-to-client' ? other.data : Buffer.alloc(0)).method).toBe(Method.Data);
    }
  });

  const bindCases: { name: string; channel: number; peer: TransportAddress; legacy?: boolean; code: number | undefined }[] = [
    { name: 'same channel and peer again (refresh) → ok', channel: 0x4000, peer: PEER, code: undefined },
    { name: 'channel bound to another peer → 400', channel: 0x4000, peer: { ...PEER, port: 1 }, code: ErrorCode.BadRequest },
    { name: 'peer bound to another channel → 400', channel: 0x4001, peer: PEER, code: ErrorCode.BadRequest },
    { name: 'channel 0x3FFF → 400', channel: 0x3fff, peer: { ...PEER, port: 2 }, code: ErrorCode.BadRequest },
    { name: 'channel 0x8000 → 400', channel: 0x8000, peer: { ...PEER, port: 2 }, code: ErrorCode.BadRequest },
    { name: 'RFC 5766 channel 0x6F4F with legacy numbers allowed → ok', channel: 0x6f4f, peer: { ...PEER, port: 2 }, code: undefined },
    { name: 'RFC 5766 channel 0x6F4F with legacy numbers refused → 400', channel: 0x6f4f, peer: { ...PEER, port: 2 }, legacy: false, code: ErrorCode.BadRequest },
    { name: 'forbidden peer → 403', channel: 0x4002, peer: { family: 4, address: '10.0.0.1', port: 2 }, code: ErrorCode.Forbidden },
  ];

  it.each(bindCases)('ChannelBind rules: $name', ({ channel, peer, legacy, code }) => {
    const { client } = setup(legacy === undefined ? {} : { allowLegacyChannelNumbers: legacy });
    client.request(Method.ChannelBind, [['CHANNEL-NUMBER', 0x4000], ['XOR-PEER-ADDRESS', PEER]]);
    expect(errorCode(client.request(Method.ChannelBind, [['CHANNEL-NUMBER', channel], ['XOR-PEER-ADDRESS', peer]]))).toBe(code);
  });

  it('an expired channel stops relaying and stays reserved for its peer during the 300 s cooldown', () => {
    const { h, client } = setup();
    client.request(Method.Refresh, [['LIFETIME', 3600]]);
    client.request(Method.ChannelBind, [['CHANNEL-NUMBER', 0x4000], ['XOR-PEER-ADDRESS', PEER]]);
    h.advance(600_001);
    h.core.tick();
    expect(client.raw(encodeChannelData(0x4000, Buffer.from('x'), false))).toEqual([]);
    const other = { ...PEER, port: 4242 };
    expect(errorCode(client.request(Method.ChannelBind, [['CHANNEL-NUMBER', 0x4000], ['XOR-PEER-ADDRESS', other]]))).toBe(ErrorCode.BadRequest);
    h.advance(300_000);
    h.core.tick();
    expect(errorCode(client.request(Method.ChannelBind, [['CHANNEL-NUMBER', 0x4000], ['XOR-PEER-ADDRESS', other]]))).toBeUndefined();
  });

  it('the bandwidth cap drops datagrams beyond the token bucket and refills with time', () => {
    const { h, client } = setup({ bandwidthBytesPerSecond: 100_000 });
    client.request(Method.ChannelBind, [['CHANNEL-NUMBER', 0x4000], ['XOR-PEER-ADDRESS', PEER]]);
    const packet = encodeChannelData(0x4000, Buffer.alloc(1000), false);
    let relayed = 0;
    for (let i = 0; i < 150; i++) relayed += client.raw(packet).length;
    expect(relayed).toBe(100);
    expect(h.core.stats().droppedBandwidth).toBe(50);
    h.advance(500);
    relayed = 0;
    for (let i = 0; i < 100; i++) relayed += client.raw(packet).length;
    expect(relayed).toBe(50);
  });
});

describe('hostile input never throws and never allocates', () => {
  it('20 000 random and mutated packets from random clients', () => {
    const h = makeCore();
    const client = CoreClient.rest(h);
    client.challenge();
    const valid = client.encode(client.build(Method.Allocate, [['REQUESTED-TRANSPORT', 17]]));
    for (let i = 0; i < 20_000; i++) {
      let packet: Buffer;
      if (i % 4 === 0) packet = randomBytes(Math.floor(Math.random() * 200));
      else if (i % 4 === 1) packet = Buffer.concat([valid.subarray(0, 20), randomBytes(Math.floor(Math.random() * 100))]);
      else if (i % 4 === 2) packet = valid.subarray(0, Math.floor(Math.random() * valid.length));
      else {
        // Flip one bit anywhere MESSAGE-INTEGRITY covers (header included). The trailing
        // FINGERPRINT is left alone: it is a demultiplexing aid, not a security check, so a
        // corrupted FINGERPRINT type merely turns it into an ignored attribute.
        packet = Buffer.from(valid);
        const at = Math.floor(Math.random() * (packet.length - 8));
        packet[at] = (packet[at] ?? 0) ^ (1 << Math.floor(Math.random() * 8));
      }
      expect(() => h.core.handleClientPacket(client.client, packet)).not.toThrow();
    }
    expect(h.core.stats()).toMatchObject({ allocations: 0, allocationsCreated: 0 });
    expect(h.core.stats().malformedPackets).toBeGreaterThan(1000);
  });

  it('ChannelData and Send on a 5-tuple without an allocation are dropped', () => {
    const h = makeCore();
    expect(h.core.handleClientPacket(tuple(), encodeChannelData(0x4000, Buffer.from('x'), false))).toEqual([]);
    expect(h.core.handleClientPacket(tuple(), sendIndication(PEER, Buffer.from('x')))).toEqual([]);
    expect(h.core.handlePeerPacket(42, PEER, Buffer.from('x'))).toEqual([]);
  });

  it('a request is not answered twice even if its 5-tuple is reused with responses', () => {
    const h = makeCore();
    const [r] = responses(h.core.handleClientPacket(tuple(), new StunMessage(Method.Binding, MessageClass.Request).encode()));
    expect(h.core.handleClientPacket(tuple(), r!.raw!)).toEqual([]);
  });
});
