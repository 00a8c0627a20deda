import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type AttributeName,
  Attributes,
  MessageClass,
  Method,
  PasswordAlgorithm,
  StunDecodeError,
  StunMessage,
  decodeStunMessage,
  isComprehensionRequired,
} from '../src/index.js';

const TID = Buffer.from('00112233445566778899aabb', 'hex');

type Case = { name: string; attr: AttributeName; value: unknown; wire?: string };

/** One row per attribute (and per interesting value): name, value, and the exact value bytes. */
const roundTrips: Case[] = [
  { name: 'MAPPED-ADDRESS IPv4', attr: 'MAPPED-ADDRESS', value: { family: 4, address: '192.0.2.1', port: 32853 }, wire: '00018055c0000201' },
  { name: 'MAPPED-ADDRESS IPv6', attr: 'MAPPED-ADDRESS', value: { family: 6, address: '2001:db8::1', port: 3478 }, wire: '00020d9620010db8000000000000000000000001' },
  { name: 'XOR-MAPPED-ADDRESS IPv4', attr: 'XOR-MAPPED-ADDRESS', value: { family: 4, address: '192.0.2.1', port: 32853 }, wire: '0001a147e112a643' },
  { name: 'XOR-MAPPED-ADDRESS IPv6 (XOR with cookie and transaction ID)', attr: 'XOR-MAPPED-ADDRESS', value: { family: 6, address: '2001:db8::1', port: 3478 } },
  { name: 'XOR-PEER-ADDRESS IPv4', attr: 'XOR-PEER-ADDRESS', value: { family: 4, address: '203.0.113.9', port: 5000 } },
  { name: 'XOR-RELAYED-ADDRESS IPv6 with embedded IPv4', attr: 'XOR-RELAYED-ADDRESS', value: { family: 6, address: '::ffff:c000:201', port: 49152 } },
  { name: 'USERNAME ASCII', attr: 'USERNAME', value: '1700000000:alice', wire: Buffer.from('1700000000:alice').toString('hex') },
  { name: 'USERNAME UTF-8', attr: 'USERNAME', value: '\u30de\u30c8\u30ea\u30c3\u30af\u30b9' },
  { name: 'USERHASH', attr: 'USERHASH', value: Buffer.alloc(32, 7) },
  { name: 'MESSAGE-INTEGRITY', attr: 'MESSAGE-INTEGRITY', value: Buffer.alloc(20, 1) },
  { name: 'MESSAGE-INTEGRITY-SHA256 full', attr: 'MESSAGE-INTEGRITY-SHA256', value: Buffer.alloc(32, 2) },
  { name: 'MESSAGE-INTEGRITY-SHA256 truncated to 16', attr: 'MESSAGE-INTEGRITY-SHA256', value: Buffer.alloc(16, 3) },
  { name: 'NONCE', attr: 'NONCE', value: 'obMatJos2gAAAabc' },
  { name: 'REALM', attr: 'REALM', value: 'pinhole' },
  { name: 'PASSWORD-ALGORITHMS', attr: 'PASSWORD-ALGORITHMS', value: [{ algorithm: PasswordAlgorithm.SHA256, parameters: Buffer.alloc(0) }, { algorithm: PasswordAlgorithm.MD5, parameters: Buffer.alloc(0) }], wire: '0002000000010000' },
  { name: 'PASSWORD-ALGORITHMS with padded parameters', attr: 'PASSWORD-ALGORITHMS', value: [{ algorithm: 9, parameters: Buffer.from([1, 2, 3]) }, { algorithm: 1, parameters: Buffer.alloc(0) }], wire: '00090003010203000001' + '0000' },
  { name: 'PASSWORD-ALGORITHM', attr: 'PASSWORD-ALGORITHM', value: { algorithm: PasswordAlgorithm.SHA256, parameters: Buffer.alloc(0) }, wire: '00020000' },
  { name: 'ERROR-CODE 438', attr: 'ERROR-CODE', value: { code: 438, reason: 'Stale Nonce' }, wire: '00000426' + Buffer.from('Stale Nonce').toString('hex') },
  { name: 'ERROR-CODE 300', attr: 'ERROR-CODE', value: { code: 300, reason: '' }, wire: '00000300' },
  { name: 'UNKNOWN-ATTRIBUTES', attr: 'UNKNOWN-ATTRIBUTES', value: [0x001a, 0x7fff], wire: '001a7fff' },
  { name: 'SOFTWARE', attr: 'SOFTWARE', value: 'pinhole-turn' },
  { name: 'LIFETIME', attr: 'LIFETIME', value: 600, wire: '00000258' },
  { name: 'DATA empty', attr: 'DATA', value: Buffer.alloc(0), wire: '' },
  { name: 'DATA odd length', attr: 'DATA', value: Buffer.from('hello'), wire: '68656c6c6f' },
  { name: 'CHANNEL-NUMBER', attr: 'CHANNEL-NUMBER', value: 0x4001, wire: '40010000' },
  { name: 'REQUESTED-TRANSPORT UDP', attr: 'REQUESTED-TRANSPORT', value: 17, wire: '11000000' },
  { name: 'REQUESTED-ADDRESS-FAMILY IPv4', attr: 'REQUESTED-ADDRESS-FAMILY', value: 4, wire: '01000000' },
  { name: 'REQUESTED-ADDRESS-FAMILY IPv6', attr: 'REQUESTED-ADDRESS-FAMILY', value: 6, wire: '02000000' },
  { name: 'DONT-FRAGMENT', attr: 'DONT-FRAGMENT', value: true, wire: '' },
  { name: 'EVEN-PORT with R', attr: 'EVEN-PORT', value: { reserve: true }, wire: '80' },
  { name: 'EVEN-PORT without R', attr: 'EVEN-PORT', value: { reserve: false }, wire: '00' },
  { name: 'RESERVATION-TOKEN', attr: 'RESERVATION-TOKEN', value: Buffer.from('0102030405060708', 'hex'), wire: '0102030405060708' },
];

describe('attribute registry', () => {
  it.each(roundTrips)('round trip: $name', ({ attr, value, wire }) => {
    const message = new StunMessage(Method.Allocate, MessageClass.Request, TID).add(attr, value as never);
    const raw = message.attributes[0];
    if (wire !== undefined) expect(raw?.value.toString('hex')).toBe(wire);
    const decoded = decodeStunMessage(message.encode());
    expect(decoded.get(attr)).toEqual(value);
  });

  const malformed: { name: string; attr: AttributeName; value: string }[] = [
    { name: 'MAPPED-ADDRESS too short', attr: 'MAPPED-ADDRESS', value: '0001' },
    { name: 'MAPPED-ADDRESS unknown family 3', attr: 'MAPPED-ADDRESS', value: '00030000c0000201' },
    { name: 'XOR-PEER-ADDRESS empty', attr: 'XOR-PEER-ADDRESS', value: '' },
    { name: 'XOR-PEER-ADDRESS 2 bytes', attr: 'XOR-PEER-ADDRESS', value: '0001' },
    { name: 'XOR-PEER-ADDRESS 3 bytes', attr: 'XOR-PEER-ADDRESS', value: '000112' },
    { name: 'XOR-MAPPED-ADDRESS 1 byte', attr: 'XOR-MAPPED-ADDRESS', value: '00' },
    { name: 'XOR-PEER-ADDRESS IPv4 family with IPv6 length', attr: 'XOR-PEER-ADDRESS', value: '0001' + '00'.repeat(18) },
    { name: 'MESSAGE-INTEGRITY 19 bytes', attr: 'MESSAGE-INTEGRITY', value: '00'.repeat(19) },
    { name: 'MESSAGE-INTEGRITY-SHA256 12 bytes', attr: 'MESSAGE-INTEGRITY-SHA256', value: '00'.repeat(12) },
    { name: 'MESSAGE-INTEGRITY-SHA256 18 bytes (not a multiple of 4)', attr: 'MESSAGE-INTEGRITY-SHA256', value: '00'.repeat(18) },
    { name: 'USERHASH 31 bytes', attr: 'USERHASH', value: '00'.repeat(31) },
    { name: 'USERNAME over 513 bytes', attr: 'USERNAME', value: '61'.repeat(514) },
    { name: 'ERROR-CODE class 2', attr: 'ERROR-CODE', value: '00000200' },
    { name: 'UNKNOWN-ATTRIBUTES odd length', attr: 'UNKNOWN-ATTRIBUTES', value: '001a00' },
    { name: 'LIFETIME 2 bytes', attr: 'LIFETIME', value: '0258' },
    { name: 'CHANNEL-NUMBER 2 bytes', attr: 'CHANNEL-NUMBER', value: '4001' },
    { name: 'REQUESTED-TRANSPORT 1 byte', attr: 'REQUESTED-TRANSPORT', value: '11' },
    { name: 'REQUESTED-ADDRESS-FAMILY 0x03', attr: 'REQUESTED-ADDRESS-FAMILY', value: '03000000' },
    { name: 'DONT-FRAGMENT with a value', attr: 'DONT-FRAGMENT', value: '00000000' },
    { name: 'EVEN-PORT empty', attr: 'EVEN-PORT', value: '' },
    { name: 'RESERVATION-TOKEN 4 bytes', attr: 'RESERVATION-TOKEN', value: '01020304' },
    { name: 'PASSWORD-ALGORITHMS truncated entry', attr: 'PASSWORD-ALGORITHMS', value: '000200' + '04' },
    { name: 'PASSWORD-ALGORITHM with two entries', attr: 'PASSWORD-ALGORITHM', value: '0001000000020000' },
  ];

  it.each(malformed)('malformed value throws StunDecodeError: $name', ({ attr, value }) => {
    const message = new StunMessage(Method.Allocate, MessageClass.Request, TID).addRaw(Attributes[attr].type, Buffer.from(value, 'hex'));
    const decoded = decodeStunMessage(message.encode());
    expect(() => decoded.get(attr)).toThrow(StunDecodeError);
    try {
      decoded.get(attr);
    } catch (err) {
      expect((err as StunDecodeError).code).toBe('malformed-stun');
    }
  });

  it('type numbers match the IANA STUN attribute registry', () => {
    const iana: Record<string, number> = {
      'MAPPED-ADDRESS': 0x0001, USERNAME: 0x0006, 'MESSAGE-INTEGRITY': 0x0008, 'ERROR-CODE': 0x0009,
      'UNKNOWN-ATTRIBUTES': 0x000a, 'CHANNEL-NUMBER': 0x000c, LIFETIME: 0x000d, 'XOR-PEER-ADDRESS': 0x0012,
      DATA: 0x0013, REALM: 0x0014, NONCE: 0x0015, 'XOR-RELAYED-ADDRESS': 0x0016, 'REQUESTED-ADDRESS-FAMILY': 0x0017,
      'EVEN-PORT': 0x0018, 'REQUESTED-TRANSPORT': 0x0019, 'DONT-FRAGMENT': 0x001a, 'MESSAGE-INTEGRITY-SHA256': 0x001c,
      'PASSWORD-ALGORITHM': 0x001d, USERHASH: 0x001e, 'XOR-MAPPED-ADDRESS': 0x0020, 'RESERVATION-TOKEN': 0x0022,
      PRIORITY: 0x0024, 'USE-CANDIDATE': 0x0025, 'PASSWORD-ALGORITHMS': 0x8002, SOFTWARE: 0x8022, FINGERPRINT: 0x8028,
    };
    for (const [name, type] of Object.entries(iana)) expect(Attributes[name as AttributeName].type, name).toBe(type);
    expect(Object.keys(Attributes).sort()).toEqual(Object.keys(iana).sort());
  });

  it.each([
    ['0x0000', 0x0000, true],
    ['0x7fff', 0x7fff, true],
    ['0x8000', 0x8000, false],
    ['0xffff', 0xffff, false],
  ])('comprehension-required range: %s → %s', (_n, type, required) => {
    expect(isComprehensionRequired(type)).toBe(required);
  });

  it('unknown comprehension-required types are reported once each; optional ones are not', () => {
    const m = new StunMessage(Method.Binding, MessageClass.Request)
      .addRaw(0x0003, Buffer.alloc(4))
      .addRaw(0x0003, Buffer.alloc(4))
      .addRaw(0x7001, randomBytes(3))
      .addRaw(0x8029, Buffer.alloc(8));
    expect(decodeStunMessage(m.encode()).unknownComprehensionRequired()).toEqual([0x0003, 0x7001]);
  });
});
