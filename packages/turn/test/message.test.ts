import { describe, expect, it } from 'vitest';
import {
  MessageClass,
  Method,
  StreamFramer,
  StunDecodeError,
  StunMessage,
  crc32,
  decodeChannelData,
  decodeStunMessage,
  encodeChannelData,
  fingerprintOf,
  verifyIntegrity,
} from '../src/index.js';
import { decodeMessageType, encodeMessageType } from '../src/stun/constants.js';

describe('message type (RFC 8489 §5)', () => {
  it.each([
    ['Binding request', Method.Binding, MessageClass.Request, 0x0001],
    ['Binding success', Method.Binding, MessageClass.SuccessResponse, 0x0101],
    ['Binding error', Method.Binding, MessageClass.ErrorResponse, 0x0111],
    ['Binding indication', Method.Binding, MessageClass.Indication, 0x0011],
    ['Allocate request', Method.Allocate, MessageClass.Request, 0x0003],
    ['Allocate error', Method.Allocate, MessageClass.ErrorResponse, 0x0113],
    ['Refresh success', Method.Refresh, MessageClass.SuccessResponse, 0x0104],
    ['Send indication', Method.Send, MessageClass.Indication, 0x0016],
    ['Data indication', Method.Data, MessageClass.Indication, 0x0017],
    ['CreatePermission request', Method.CreatePermission, MessageClass.Request, 0x0008],
    ['ChannelBind success', Method.ChannelBind, MessageClass.SuccessResponse, 0x0109],
    ['highest method 0xfff, error', 0xfff, MessageClass.ErrorResponse, 0x3fff],
  ])('%s is 0x%s on the wire', (_name, method, cls, wire) => {
    expect(encodeMessageType(method, cls)).toBe(wire);
    expect(decodeMessageType(wire)).toEqual({ method, cls });
  });
});

describe('message codec', () => {
  const key = Buffer.from('secret key');

  it.each([
    ['no integrity', {}],
    ['MESSAGE-INTEGRITY', { integrity: { key, algorithm: 'sha1' as const } }],
    ['MESSAGE-INTEGRITY-SHA256', { integrity: { key, algorithm: 'sha256' as const } }],
    ['FINGERPRINT only', { fingerprint: true }],
    ['MESSAGE-INTEGRITY-SHA256 and FINGERPRINT', { integrity: { key, algorithm: 'sha256' as const }, fingerprint: true }],
  ])('round trip with %s', (_name, options) => {
    const message = new StunMessage(Method.Allocate, MessageClass.Request)
      .add('REQUESTED-TRANSPORT', 17)
      .add('LIFETIME', 1200)
      .add('USERNAME', 'odd');
    const encoded = message.encode(options);
    expect(encoded.length % 4).toBe(0);
    expect(encoded.readUInt16BE(2)).toBe(encoded.length - 20);
    const decoded = decodeStunMessage(encoded);
    expect(decoded.transactionId).toEqual(message.transactionId);
    expect(decoded.method).toBe(Method.Allocate);
    expect(decoded.get('LIFETIME')).toBe(1200);
    expect(decoded.get('USERNAME')).toBe('odd');
    expect(decoded.has('FINGERPRINT')).toBe('fingerprint' in options);
    const check = verifyIntegrity(decoded, key);
    if ('integrity' in options) expect(check).toEqual({ ok: true, algorithm: options.integrity.algorithm });
    else expect(check).toEqual({ ok: false, reason: 'missing' });
  });

  it('FINGERPRINT is CRC-32 of the preceding bytes XOR 0x5354554e', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926); // the standard CRC-32 check value
    const encoded = new StunMessage(Method.Binding, MessageClass.Request).encode({ fingerprint: true });
    expect(encoded.readUInt32BE(encoded.length - 4)).toBe(fingerprintOf(encoded.subarray(0, encoded.length - 8)));
    expect(decodeStunMessage(encoded).get('FINGERPRINT')).toBe(encoded.readUInt32BE(encoded.length - 4));
  });

  it('ignores attributes after MESSAGE-INTEGRITY except MESSAGE-INTEGRITY-SHA256 and FINGERPRINT (RFC 8489 §14.5)', () => {
    const signed = new StunMessage(Method.Binding, MessageClass.Request).add('USERNAME', 'u').encode({ integrity: { key, algorithm: 'sha1' } });
    const extra = Buffer.from('80220004' + '41424344', 'hex'); // SOFTWARE "ABCD" after MESSAGE-INTEGRITY
    const tampered = Buffer.concat([signed, extra]);
    tampered.writeUInt16BE(tampered.length - 20, 2);
    const decoded = decodeStunMessage(tampered);
    expect(decoded.get('SOFTWARE')).toBeUndefined();
    expect(verifyIntegrity(decoded, key).ok).toBe(true);
  });

  const valid = new StunMessage(Method.Binding, MessageClass.Request).add('SOFTWARE', 'x').encode({ fingerprint: true });
  const withLength = (buf: Buffer, length: number): Buffer => {
    const copy = Buffer.from(buf);
    copy.writeUInt16BE(length, 2);
    return copy;
  };
  it.each([
    ['empty', Buffer.alloc(0)],
    ['19-byte header', valid.subarray(0, 19)],
    ['top bits 11', Buffer.concat([Buffer.from([0xc0]), valid.subarray(1)])],
    ['wrong magic cookie', Buffer.concat([valid.subarray(0, 4), Buffer.from('2112a443', 'hex'), valid.subarray(8)])],
    ['length not a multiple of 4', withLength(valid, 6)],
    ['length beyond the datagram', withLength(valid, valid.length)],
    ['attribute overruns the message', Buffer.concat([withLength(valid.subarray(0, 20), 4), Buffer.from('80220010', 'hex')])],
    ['FINGERPRINT mismatch', Buffer.concat([valid.subarray(0, valid.length - 1), Buffer.from([valid[valid.length - 1]! ^ 1])])],
    ['attribute after FINGERPRINT', withLength(Buffer.concat([valid, Buffer.from('80220000', 'hex')]), valid.length - 16)],
  ])('rejects %s with StunDecodeError', (_name, bytes) => {
    expect(() => decodeStunMessage(bytes)).toThrow(StunDecodeError);
  });
});

describe('ChannelData (RFC 8656 §12.4)', () => {
  it.each([
    ['empty, UDP', 0, false, 4],
    ['3 bytes, UDP (no padding)', 3, false, 7],
    ['3 bytes, stream (padded to 8)', 3, true, 8],
    ['4 bytes, stream', 4, true, 8],
    ['1200 bytes, stream', 1200, true, 1204],
  ])('%s', (_name, size, pad, wireLength) => {
    const data = Buffer.alloc(size, 0xab);
    const encoded = encodeChannelData(0x4001, data, pad);
    expect(encoded.length).toBe(wireLength);
    expect(encoded.readUInt16BE(2)).toBe(size);
    expect(decodeChannelData(encoded)).toEqual({ channel: 0x4001, data });
  });

  it('a length field beyond the datagram is discarded', () => {
    expect(decodeChannelData(Buffer.from('40010010aabbccdd', 'hex'))).toBeUndefined();
  });
});

describe('StreamFramer (TCP/TLS framing)', () => {
  const stun = new StunMessage(Method.Binding, MessageClass.Request).add('SOFTWARE', 'abc').encode();
  const channel = encodeChannelData(0x4000, Buffer.from('hello'), true);
  const stream = Buffer.concat([stun, channel, stun, channel]);

  it('splits STUN and padded ChannelData fed one byte at a time', () => {
    const framer = new StreamFramer(1 << 16);
    const frames: Buffer[] = [];
    for (const byte of stream) frames.push(...framer.push(Buffer.from([byte])));
    expect(frames.map((f) => f.length)).toEqual([stun.length, channel.length, stun.length, channel.length]);
    expect(frames[1]).toEqual(channel);
  });

  it('splits several frames arriving in one chunk', () => {
    expect(new StreamFramer(1 << 16).push(stream)).toHaveLength(4);
  });

  it.each([
    ['top bits 10', Buffer.from('80000000', 'hex')],
    ['top bits 11', Buffer.from('ff000000', 'hex')],
    ['STUN length not a multiple of 4', Buffer.from('00010003', 'hex')],
    ['STUN header without the magic cookie', Buffer.from('000100042112a443', 'hex')],
  ])('throws on garbage: %s', (_name, bytes) => {
    expect(() => new StreamFramer(1 << 16).push(bytes)).toThrow();
  });

  it('with requireStunFirst, ChannelData before any STUN message is refused, and accepted after one', () => {
    expect(() => new StreamFramer(1 << 16, { requireStunFirst: true }).push(channel)).toThrow('ChannelData before any STUN message');
    expect(new StreamFramer(1 << 16, { requireStunFirst: true }).push(Buffer.concat([stun, channel]))).toHaveLength(2);
  });

  it('throws when unframed data exceeds the limit', () => {
    const framer = new StreamFramer(100);
    expect(() => framer.push(Buffer.concat([Buffer.from('0001fff0', 'hex'), Buffer.alloc(200)]))).toThrow();
  });
});
