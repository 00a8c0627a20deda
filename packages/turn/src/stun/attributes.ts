import { StunDecodeError } from '../errors.js';
import {
  type TransportAddress,
  decodeAddress,
  decodeXorAddress,
  encodeAddress,
  encodeXorAddress,
} from './address.js';

/** How one attribute type is encoded and decoded. `tid` is the transaction ID (XOR keys). */
export interface AttributeCodec<T> {
  readonly type: number;
  decode(value: Buffer, tid: Buffer): T;
  encode(value: T, tid: Buffer): Buffer;
}

/** RFC 8489 §14.8 ERROR-CODE value. */
export interface ErrorCodeValue {
  readonly code: number;
  readonly reason: string;
}

/** RFC 8489 §14.11–14.12 PASSWORD-ALGORITHM entry. */
export interface PasswordAlgorithmValue {
  readonly algorithm: number;
  readonly parameters: Buffer;
}

/** RFC 8489 §18.5: password algorithm numbers. */
export const PasswordAlgorithm = { MD5: 0x0001, SHA256: 0x0002 } as const;

function fail(message: string): never {
  throw new StunDecodeError(message);
}

function fixedLength(value: Buffer, length: number, name: string): void {
  if (value.length !== length) fail(`${name} must be ${length} bytes, got ${value.length}`);
}

/** A UTF-8 text attribute bounded by the RFC's maximum byte length. */
function text(type: number, maxBytes: number, name: string): AttributeCodec<string> {
  return {
    type,
    decode(value) {
      if (value.length > maxBytes) fail(`${name} longer than ${maxBytes} bytes`);
      return value.toString('utf8');
    },
    encode: (value) => Buffer.from(value, 'utf8'),
  };
}

function opaque(type: number, check?: (value: Buffer) => void): AttributeCodec<Buffer> {
  return {
    type,
    decode(value) {
      check?.(value);
      return value;
    },
    encode: (value) => value,
  };
}

function uint32(type: number, name: string): AttributeCodec<number> {
  return {
    type,
    decode(value) {
      fixedLength(value, 4, name);
      return value.readUInt32BE(0);
    },
    encode(value) {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(value >>> 0, 0);
      return out;
    },
  };
}

function flag(type: number, name: string): AttributeCodec<true> {
  return {
    type,
    decode(value) {
      fixedLength(value, 0, name);
      return true;
    },
    encode: () => Buffer.alloc(0),
  };
}

function address(type: number): AttributeCodec<TransportAddress> {
  return { type, decode: (v) => decodeAddress(v), encode: (v) => encodeAddress(v) };
}

function xorAddress(type: number): AttributeCodec<TransportAddress> {
  return { type, decode: (v, tid) => decodeXorAddress(v, tid), encode: (v, tid) => encodeXorAddress(v, tid) };
}

function decodePasswordAlgorithms(value: Buffer): PasswordAlgorithmValue[] {
  const out: PasswordAlgorithmValue[] = [];
  let offset = 0;
  while (offset < value.length) {
    if (offset + 4 > value.length) fail('truncated PASSWORD-ALGORITHMS entry');
    const algorithm = value.readUInt16BE(offset);
    const length = value.readUInt16BE(offset + 2);
    const end = offset + 4 + length;
    if (end > value.length) fail('truncated PASSWORD-ALGORITHMS parameters');
    out.push({ algorithm, parameters: value.subarray(offset + 4, end) });
    offset = end + ((4 - (length % 4)) % 4);
  }
  return out;
}

function encodePasswordAlgorithms(values: readonly PasswordAlgorithmValue[]): Buffer {
  return Buffer.concat(
    values.map(({ algorithm, parameters }) => {
      const out = Buffer.alloc(4 + parameters.length + ((4 - (parameters.length % 4)) % 4));
      out.writeUInt16BE(algorithm, 0);
      out.writeUInt16BE(parameters.length, 2);
      parameters.copy(out, 4);
      return out;
    }),
  );
}

/**
 * The attribute registry: one codec per attribute this package understands, keyed by the RFC
 * name. An attribute type missing here is "unknown" in the sense of RFC 8489 §6.3.1 (420 when it
 * is comprehension-required, 0x0000–0x7FFF).
 */
export const Attributes = {
  /** RFC 8489 §14.1 */
  'MAPPED-ADDRESS': address(0x0001),
  /** RFC 8489 §14.3: at most 513 bytes (OpaqueString). */
  USERNAME: text(0x0006, 513, 'USERNAME'),
  /** RFC 8489 §14.5: HMAC-SHA1, 20 bytes. */
  'MESSAGE-INTEGRITY': opaque(0x0008, (v) => fixedLength(v, 20, 'MESSAGE-INTEGRITY')),
  /** RFC 8489 §14.8: class (hundreds) and number, then a UTF-8 reason phrase. */
  'ERROR-CODE': {
    type: 0x0009,
    decode(value) {
      if (value.length < 4) fail('ERROR-CODE too short');
      const code = (value[2] ?? 0) * 100 + (value[3] ?? 0);
      if (code < 300 || code > 699) fail(`ERROR-CODE ${code} out of range`);
      return { code, reason: value.subarray(4).toString('utf8') };
    },
    encode({ code, reason }) {
      const phrase = Buffer.from(reason, 'utf8');
      const out = Buffer.alloc(4 + phrase.length);
      out[2] = Math.floor(code / 100);
      out[3] = code % 100;
      phrase.copy(out, 4);
      return out;
    },
  } satisfies AttributeCodec<ErrorCodeValue>,
  /** RFC 8489 §14.9: a list of 16-bit attribute types. */
  'UNKNOWN-ATTRIBUTES': {
    type: 0x000a,
    decode(value) {
      if (value.length % 2 !== 0) fail('UNKNOWN-ATTRIBUTES has odd length');
      const out: number[] = [];
      for (let i = 0; i < value.length; i += 2) out.push(value.readUInt16BE(i));
      return out;
    },
    encode(types) {
      const out = Buffer.alloc(types.length * 2);
      types.forEach((t, i) => out.writeUInt16BE(t, i * 2));
      return out;
    },
  } satisfies AttributeCodec<number[]>,
  /** RFC 8656 §14.1: a 16-bit channel number followed by 16 RFFU bits. */
  'CHANNEL-NUMBER': {
    type: 0x000c,
    decode(value) {
      fixedLength(value, 4, 'CHANNEL-NUMBER');
      return value.readUInt16BE(0);
    },
    encode(channel) {
      const out = Buffer.alloc(4);
      out.writeUInt16BE(channel, 0);
      return out;
    },
  } satisfies AttributeCodec<number>,
  /** RFC 8656 §14.2: seconds remaining until expiry. */
  LIFETIME: uint32(0x000d, 'LIFETIME'),
  /** RFC 8656 §14.3 */
  'XOR-PEER-ADDRESS': xorAddress(0x0012),
  /** RFC 8656 §14.4: the application data, any length. */
  DATA: opaque(0x0013),
  /** RFC 8489 §14.9: at most 763 bytes. */
  REALM: text(0x0014, 763, 'REALM'),
  /** RFC 8489 §14.10: at most 763 bytes. */
  NONCE: text(0x0015, 763, 'NONCE'),
  /** RFC 8656 §14.5 */
  'XOR-RELAYED-ADDRESS': xorAddress(0x0016),
  /** RFC 8656 §14.6: family octet (0x01 IPv4, 0x02 IPv6) and 24 RFFU bits. */
  'REQUESTED-ADDRESS-FAMILY': {
    type: 0x0017,
    decode(value) {
      fixedLength(value, 4, 'REQUESTED-ADDRESS-FAMILY');
      if (value[0] === 0x01) return 4;
      if (value[0] === 0x02) return 6;
      return fail(`unknown REQUESTED-ADDRESS-FAMILY ${value[0]}`);
    },
    encode(family) {
      return Buffer.from([family === 4 ? 0x01 : 0x02, 0, 0, 0]);
    },
  } satisfies AttributeCodec<4 | 6>,
  /** RFC 8656 §14.8: one octet whose top bit R asks to reserve the next port. */
  'EVEN-PORT': {
    type: 0x0018,
    decode(value) {
      if (value.length < 1) fail('EVEN-PORT too short');
      return { reserve: ((value[0] ?? 0) & 0x80) !== 0 };
    },
    encode: ({ reserve }) => Buffer.from([reserve ? 0x80 : 0]),
  } satisfies AttributeCodec<{ reserve: boolean }>,
  /** RFC 8656 §14.7: protocol number (17 = UDP) and 24 RFFU bits. */
  'REQUESTED-TRANSPORT': {
    type: 0x0019,
    decode(value) {
      fixedLength(value, 4, 'REQUESTED-TRANSPORT');
      return value[0] ?? 0;
    },
    encode: (protocol) => Buffer.from([protocol, 0, 0, 0]),
  } satisfies AttributeCodec<number>,
  /** RFC 8656 §14.8: no value. */
  'DONT-FRAGMENT': flag(0x001a, 'DONT-FRAGMENT'),
  /** RFC 8489 §14.6: HMAC-SHA256, 16 to 32 bytes in steps of 4. */
  'MESSAGE-INTEGRITY-SHA256': opaque(0x001c, (v) => {
    if (v.length < 16 || v.length > 32 || v.length % 4 !== 0) fail('bad MESSAGE-INTEGRITY-SHA256 length');
  }),
  /** RFC 8489 §14.12 */
  'PASSWORD-ALGORITHM': {
    type: 0x001d,
    decode(value) {
      const [first, ...rest] = decodePasswordAlgorithms(value);
      if (!first || rest.length > 0) fail('PASSWORD-ALGORITHM must hold exactly one entry');
      return first;
    },
    encode: (value) => encodePasswordAlgorithms([value]),
  } satisfies AttributeCodec<PasswordAlgorithmValue>,
  /** RFC 8489 §14.4: SHA-256 of `username:realm`, 32 bytes. */
  USERHASH: opaque(0x001e, (v) => fixedLength(v, 32, 'USERHASH')),
  /** RFC 8489 §14.2 */
  'XOR-MAPPED-ADDRESS': xorAddress(0x0020),
  /** RFC 8656 §14.9: 8 opaque bytes. */
  'RESERVATION-TOKEN': opaque(0x0022, (v) => fixedLength(v, 8, 'RESERVATION-TOKEN')),
  /** RFC 8445 §16.1 (known so that ICE checks sent to us are not answered with 420). */
  PRIORITY: uint32(0x0024, 'PRIORITY'),
  /** RFC 8445 §16.1 */
  'USE-CANDIDATE': flag(0x0025, 'USE-CANDIDATE'),
  /** RFC 8489 §14.11 */
  'PASSWORD-ALGORITHMS': {
    type: 0x8002,
    decode: (value) => decodePasswordAlgorithms(value),
    encode: (values) => encodePasswordAlgorithms(values),
  } satisfies AttributeCodec<PasswordAlgorithmValue[]>,
  /** RFC 8489 §14.14: at most 763 bytes. */
  SOFTWARE: text(0x8022, 763, 'SOFTWARE'),
  /** RFC 8489 §14.7: CRC-32 of the message XOR 0x5354554e. */
  FINGERPRINT: uint32(0x8028, 'FINGERPRINT'),
} as const;

export type AttributeName = keyof typeof Attributes;
export type AttributeValue<N extends AttributeName> =
  (typeof Attributes)[N] extends AttributeCodec<infer T> ? T : never;

const KNOWN_TYPES = new Set<number>(Object.values(Attributes).map((c) => c.type));

/** Whether the registry has a codec for `type`. */
export function isKnownAttribute(type: number): boolean {
  return KNOWN_TYPES.has(type);
}

/** RFC 8489 §14: types 0x0000–0x7FFF must be understood by the receiver. */
export function isComprehensionRequired(type: number): boolean {
  return type < 0x8000;
}

/** The codec of `name`, typed by its value (one cast here instead of one per call site). */
export function codecOf<N extends AttributeName>(name: N): AttributeCodec<AttributeValue<N>> {
  return Attributes[name] as unknown as AttributeCodec<AttributeValue<N>>;
}
