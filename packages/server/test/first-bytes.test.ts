import { describe, expect, it } from 'vitest';
import { classifyFirstBytes, type FirstBytes } from '../src/index.js';

const bytes = (...b: number[]): Buffer => Buffer.from(b);
const STUN_BINDING = bytes(0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42);

describe('classifyFirstBytes', () => {
  it.each<[string, Buffer, FirstBytes]>([
    ['nothing yet', bytes(), 'more'],
    ['TLS handshake record (ClientHello)', bytes(0x16, 0x03, 0x01), 'tls'],
    ['TLS, first byte alone', bytes(0x16), 'tls'],
    ['HTTP GET', Buffer.from('GET / HTTP/1.1'), 'http'],
    ['HTTP POST, first byte alone', Buffer.from('P'), 'http'],
    ['STUN Binding request header', STUN_BINDING, 'stun'],
    ['STUN Allocate request header', bytes(0x00, 0x03, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42, 0xff), 'stun'],
    ['STUN-like, cookie not yet seen', STUN_BINDING.subarray(0, 7), 'more'],
    ['first bits 00, wrong cookie (RFC 3489 STUN or garbage)', bytes(0x00, 0x01, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78), 'garbage'],
    ['ChannelData (first bits 01) cannot start a connection', bytes(0x40, 0x00, 0x00, 0x04), 'garbage'],
    ['lower-case method', Buffer.from('get /'), 'garbage'],
    ['TLS alert record', bytes(0x15, 0x03, 0x03), 'more'],
    ['high byte', bytes(0xff), 'garbage'],
    ['HTTP/2 preface without TLS ("PRI")', Buffer.from('PRI * HTTP/2.0'), 'http'],
  ])('%s', (_name, head, expected) => {
    expect(classifyFirstBytes(head)).toBe(expected);
  });
});
