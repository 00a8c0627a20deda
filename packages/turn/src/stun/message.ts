import { randomBytes } from 'node:crypto';
import { StunDecodeError } from '../errors.js';
import {
  type AttributeName,
  type AttributeValue,
  Attributes,
  codecOf,
  isComprehensionRequired,
  isKnownAttribute,
} from './attributes.js';
import {
  HEADER_LENGTH,
  MAGIC_COOKIE,
  type MessageClassCode,
  type MethodCode,
  TRANSACTION_ID_LENGTH,
  decodeMessageType,
  encodeMessageType,
} from './constants.js';
import { fingerprintOf } from './fingerprint.js';
import { type IntegrityAlgorithm, hmac } from './integrity.js';

const TYPE_MESSAGE_INTEGRITY = Attributes['MESSAGE-INTEGRITY'].type;
const TYPE_MESSAGE_INTEGRITY_SHA256 = Attributes['MESSAGE-INTEGRITY-SHA256'].type;
const TYPE_FINGERPRINT = Attributes.FINGERPRINT.type;

/** One attribute as it sits in the message: type, unpadded value, and header offset. */
export interface RawAttribute {
  readonly type: number;
  readonly value: Buffer;
  /** Offset of the attribute header from the start of the message (decoded messages only). */
  readonly offset: number;
}

/** Options of {@link StunMessage.encode}. */
export interface EncodeOptions {
  /** Append MESSAGE-INTEGRITY (sha1) or MESSAGE-INTEGRITY-SHA256 computed with `key`. */
  readonly integrity?: { readonly key: Buffer; readonly algorithm: IntegrityAlgorithm };
  /** Append FINGERPRINT (RFC 8489 §14.7). */
  readonly fingerprint?: boolean;
}

const pad4 = (n: number): number => (n + 3) & ~3;

/**
 * A STUN message (RFC 8489 §5): method, class, transaction ID and an ordered attribute list.
 * Values are encoded when added, decoded when read, so unknown attributes pass through intact.
 */
export class StunMessage {
  readonly attributes: RawAttribute[] = [];

  constructor(
    readonly method: MethodCode,
    readonly cls: MessageClassCode,
    readonly transactionId: Buffer = randomBytes(TRANSACTION_ID_LENGTH),
    /** The bytes this message was decoded from (needed to verify integrity). */
    readonly raw?: Buffer,
  ) {
    if (transactionId.length !== TRANSACTION_ID_LENGTH) throw new StunDecodeError('transaction ID must be 12 bytes');
  }

  /** Append a registered attribute. */
  add<N extends AttributeName>(name: N, value: AttributeValue<N>): this {
    const codec = codecOf(name);
    return this.addRaw(codec.type, codec.encode(value, this.transactionId));
  }

  /** Append an attribute by type with an already-encoded value. */
  addRaw(type: number, value: Buffer): this {
    this.attributes.push({ type, value, offset: -1 });
    return this;
  }

  /** The first attribute of `type`, raw. */
  find(type: number): RawAttribute | undefined {
    return this.attributes.find((a) => a.type === type);
  }

  has(name: AttributeName): boolean {
    return this.find(Attributes[name].type) !== undefined;
  }

  /** The decoded value of the first `name` attribute; throws StunDecodeError if malformed. */
  get<N extends AttributeName>(name: N): AttributeValue<N> | undefined {
    const raw = this.find(Attributes[name].type);
    return raw ? this.decodeValue(name, raw.value) : undefined;
  }

  /** Decoded values of every `name` attribute, in order. */
  getAll<N extends AttributeName>(name: N): AttributeValue<N>[] {
    const type = Attributes[name].type;
    return this.attributes.filter((a) => a.type === type).map((a) => this.decodeValue(name, a.value));
  }

  /** Comprehension-required attribute types the registry does not know (RFC 8489 §6.3.1). */
  unknownComprehensionRequired(): number[] {
    const out = new Set<number>();
    for (const { type } of this.attributes) if (isComprehensionRequired(type) && !isKnownAttribute(type)) out.add(type);
    return [...out];
  }

  /** Serialize, appending integrity and fingerprint attributes as asked. */
  encode(options: EncodeOptions = {}): Buffer {
    const bodyLength = this.attributes.reduce((n, a) => n + 4 + pad4(a.value.length), 0);
    const macLength = options.integrity ? (options.integrity.algorithm === 'sha1' ? 20 : 32) : 0;
    const total = HEADER_LENGTH + bodyLength + (macLength ? 4 + macLength : 0) + (options.fingerprint ? 8 : 0);
    const out = Buffer.alloc(total);
    out.writeUInt16BE(encodeMessageType(this.method, this.cls), 0);
    out.writeUInt32BE(MAGIC_COOKIE, 4);
    this.transactionId.copy(out, 8);
    let offset = HEADER_LENGTH;
    for (const { type, value } of this.attributes) {
      offset = writeAttribute(out, offset, type, value);
    }
    if (options.integrity) {
      // RFC 8489 §14.5: the length field covers the integrity attribute but not what follows.
      out.writeUInt16BE(offset - HEADER_LENGTH + 4 + macLength, 2);
      const mac = hmac(options.integrity.algorithm, options.integrity.key, out.subarray(0, offset));
      const type = options.integrity.algorithm === 'sha1' ? TYPE_MESSAGE_INTEGRITY : TYPE_MESSAGE_INTEGRITY_SHA256;
      offset = writeAttribute(out, offset, type, mac);
    }
    out.writeUInt16BE(total - HEADER_LENGTH, 2);
    if (options.fingerprint) {
      const value = Buffer.alloc(4);
      value.writeUInt32BE(fingerprintOf(out.subarray(0, offset)), 0);
      writeAttribute(out, offset, TYPE_FINGERPRINT, value);
    }
    return out;
  }

  private decodeValue<N extends AttributeName>(name: N, value: Buffer): AttributeValue<N> {
    return codecOf(name).decode(value, this.transactionId);
  }
}

function writeAttribute(out: Buffer, offset: number, type: number, value: Buffer): number {
  out.writeUInt16BE(type, offset);
  out.writeUInt16BE(value.length, offset + 2);
  value.copy(out, offset + 4);
  return offset + 4 + pad4(value.length);
}

/** Cheap test whether `data` starts like a STUN message (RFC 8489 §5, §7: top bits and cookie). */
export function looksLikeStun(data: Uint8Array): boolean {
  return (
    data.length >= HEADER_LENGTH &&
    ((data[0] ?? 0xff) & 0xc0) === 0 &&
    data[4] === 0x21 &&
    data[5] === 0x12 &&
    data[6] === 0xa4 &&
    data[7] === 0x42
  );
}

/**
 * Decode one STUN message (RFC 8489 §5–§6.3) that fills `data` exactly (one UDP datagram or
 * one frame from StreamFramer). Throws StunDecodeError on anything malformed,
 * including a FINGERPRINT that does not match. Attributes after MESSAGE-INTEGRITY other than
 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are dropped, as RFC 8489 §14.5 requires.
 */
export function decodeStunMessage(data: Buffer): StunMessage {
  if (!looksLikeStun(data)) throw new StunDecodeError('not a STUN message');
  const length = data.readUInt16BE(2);
  if (length % 4 !== 0) throw new StunDecodeError('message length is not a multiple of 4');
  // A datagram or stream frame holds exactly one message: bytes beyond the length field are as
  // suspect as missing ones (they would let a truncated, still-signed copy through).
  if (HEADER_LENGTH + length !== data.length) throw new StunDecodeError('message length does not match the packet');
  const raw = data;
  const { method, cls } = decodeMessageType(raw.readUInt16BE(0));
  const message = new StunMessage(method, cls, Buffer.from(raw.subarray(8, HEADER_LENGTH)), raw);
  let offset = HEADER_LENGTH;
  let afterIntegrity = false;
  let afterSha256 = false;
  while (offset < raw.length) {
    if (offset + 4 > raw.length) throw new StunDecodeError('truncated attribute header');
    const type = raw.readUInt16BE(offset);
    const valueLength = raw.readUInt16BE(offset + 2);
    const end = offset + 4 + valueLength;
    if (end > raw.length) throw new StunDecodeError('attribute overruns the message');
    const value = raw.subarray(offset + 4, end);
    if (type === TYPE_FINGERPRINT) {
      if (pad4(end) !== raw.length) throw new StunDecodeError('FINGERPRINT is not the last attribute');
      if (valueLength !== 4) throw new StunDecodeError('FINGERPRINT must be 4 bytes');
      if (value.readUInt32BE(0) !== fingerprintOf(raw.subarray(0, offset))) {
        throw new StunDecodeError('FINGERPRINT mismatch');
      }
    }
    const keep =
      type === TYPE_FINGERPRINT ||
      (type === TYPE_MESSAGE_INTEGRITY_SHA256 && !afterSha256) ||
      (!afterIntegrity && !afterSha256);
    if (keep) message.attributes.push({ type, value, offset });
    if (type === TYPE_MESSAGE_INTEGRITY) afterIntegrity = true;
    if (type === TYPE_MESSAGE_INTEGRITY_SHA256) afterSha256 = true;
    offset = pad4(end);
  }
  return message;
}
