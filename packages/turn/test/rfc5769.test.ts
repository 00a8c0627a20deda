import { describe, expect, it } from 'vitest';
import {
  MessageClass,
  Method,
  StunDecodeError,
  StunMessage,
  decodeStunMessage,
  longTermKey,
  saslPrep,
  shortTermKey,
  verifyIntegrity,
} from '../src/index.js';
import * as V from './fixtures/rfc5769.js';

describe('RFC 5769 test vectors', () => {
  it('§2.1 sample request: header, attributes, short-term MESSAGE-INTEGRITY and FINGERPRINT', () => {
    const m = decodeStunMessage(V.SAMPLE_REQUEST);
    expect(m.method).toBe(Method.Binding);
    expect(m.cls).toBe(MessageClass.Request);
    expect(m.transactionId.toString('hex')).toBe('b7e7a701bc34d686fa87dfae');
    expect(m.get('SOFTWARE')).toBe('STUN test client');
    expect(m.get('USERNAME')).toBe('evtj:h6vY');
    expect(m.get('PRIORITY')).toBe(0x6e0001ff);
    expect(m.get('FINGERPRINT')).toBe(0xe57a3bcf);
    expect(m.unknownComprehensionRequired()).toEqual([]);
    expect(verifyIntegrity(m, shortTermKey(V.SHORT_TERM_PASSWORD))).toEqual({ ok: true, algorithm: 'sha1' });
    expect(verifyIntegrity(m, shortTermKey('wrong'))).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('§2.2 sample IPv4 response: XOR-MAPPED-ADDRESS 192.0.2.1:32853, integrity and fingerprint', () => {
    const m = decodeStunMessage(V.SAMPLE_IPV4_RESPONSE);
    expect(m.method).toBe(Method.Binding);
    expect(m.cls).toBe(MessageClass.SuccessResponse);
    expect(m.get('SOFTWARE')).toBe('test vector');
    expect(m.get('XOR-MAPPED-ADDRESS')).toEqual({ family: 4, address: '192.0.2.1', port: 32853 });
    expect(verifyIntegrity(m, shortTermKey(V.SHORT_TERM_PASSWORD)).ok).toBe(true);
  });

  it('§2.3 sample IPv6 response: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853', () => {
    const m = decodeStunMessage(V.SAMPLE_IPV6_RESPONSE);
    expect(m.get('XOR-MAPPED-ADDRESS')).toEqual({ family: 6, address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 });
    expect(verifyIntegrity(m, shortTermKey(V.SHORT_TERM_PASSWORD)).ok).toBe(true);
  });

  it('§2.4 long-term request: SASLprep maps the password to "TheMatrIX" and the MD5 key verifies', () => {
    expect(saslPrep(V.LONG_TERM_PASSWORD)).toBe('TheMatrIX');
    const m = decodeStunMessage(V.SAMPLE_REQUEST_LONG_TERM);
    expect(m.get('USERNAME')).toBe(V.LONG_TERM_USERNAME);
    expect(m.get('NONCE')).toBe(V.LONG_TERM_NONCE);
    expect(m.get('REALM')).toBe(V.LONG_TERM_REALM);
    expect(m.has('FINGERPRINT')).toBe(false);
    const key = longTermKey(V.LONG_TERM_USERNAME, V.LONG_TERM_REALM, V.LONG_TERM_PASSWORD);
    expect(verifyIntegrity(m, key)).toEqual({ ok: true, algorithm: 'sha1' });
  });

  it('§2.4 re-encoded by our encoder is byte-identical (zero padding, as in the vector)', () => {
    const tid = V.SAMPLE_REQUEST_LONG_TERM.subarray(8, 20);
    const key = longTermKey(V.LONG_TERM_USERNAME, V.LONG_TERM_REALM, V.LONG_TERM_PASSWORD);
    const encoded = new StunMessage(Method.Binding, MessageClass.Request, Buffer.from(tid))
      .add('USERNAME', V.LONG_TERM_USERNAME)
      .add('NONCE', V.LONG_TERM_NONCE)
      .add('REALM', V.LONG_TERM_REALM)
      .encode({ integrity: { key, algorithm: 'sha1' } });
    expect(encoded.toString('hex')).toBe(V.SAMPLE_REQUEST_LONG_TERM.toString('hex'));
  });

  it('§2.2 rebuilt by our encoder (zero padding) verifies and carries the same values', () => {
    const tid = Buffer.from(V.SAMPLE_IPV4_RESPONSE.subarray(8, 20));
    const key = shortTermKey(V.SHORT_TERM_PASSWORD);
    const encoded = new StunMessage(Method.Binding, MessageClass.SuccessResponse, tid)
      .add('SOFTWARE', 'test vector')
      .add('XOR-MAPPED-ADDRESS', { family: 4, address: '192.0.2.1', port: 32853 })
      .encode({ integrity: { key, algorithm: 'sha1' }, fingerprint: true });
    // Same length and XOR-MAPPED-ADDRESS bytes; MI and CRC differ only through the padding bytes.
    expect(encoded.length).toBe(V.SAMPLE_IPV4_RESPONSE.length);
    expect(encoded.subarray(36, 48)).toEqual(V.SAMPLE_IPV4_RESPONSE.subarray(36, 48));
    const m = decodeStunMessage(encoded);
    expect(verifyIntegrity(m, key).ok).toBe(true);
  });

  it.each([
    ['§2.1 request', V.SAMPLE_REQUEST],
    ['§2.2 IPv4 response', V.SAMPLE_IPV4_RESPONSE],
    ['§2.3 IPv6 response', V.SAMPLE_IPV6_RESPONSE],
  ])('%s: any flipped bit before FINGERPRINT is caught by the fingerprint check', (_name, vector) => {
    for (let i = 20; i < vector.length - 8; i += 3) {
      const corrupted = Buffer.from(vector);
      corrupted[i] = (corrupted[i] ?? 0) ^ 0x01;
      expect(() => decodeStunMessage(corrupted), `byte ${i}`).toThrow(StunDecodeError);
    }
  });
});
