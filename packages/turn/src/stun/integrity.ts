import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { PasswordAlgorithm } from './attributes.js';
import { HEADER_LENGTH } from './constants.js';
import type { StunMessage } from './message.js';

/** Which integrity attribute protects a message. */
export type IntegrityAlgorithm = 'sha1' | 'sha256';

/**
 * SASLprep (RFC 4013) as far as passwords need it: map "commonly mapped to nothing" characters
 * away, non-ASCII spaces to U+0020, then NFKC. ASCII input is returned unchanged. RFC 8489
 * §9.2.2 moved to OpaqueString; RFC 5769's vector still uses SASLprep, and both agree on ASCII.
 */
export function saslPrep(input: string): string {
  if (/^[\x20-\x7e]*$/.test(input)) return input;
  return input
    .replace(/[\u00ad\u034f\u1806\u180b-\u180d\u200b-\u200d\u2060\ufe00-\ufe0f\ufeff]/g, '')
    .replace(/[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g, ' ')
    .normalize('NFKC');
}

/** RFC 8489 §9.1.2: the short-term key is the SASLprep'd password. */
export function shortTermKey(password: string): Buffer {
  return Buffer.from(saslPrep(password), 'utf8');
}

/**
 * RFC 8489 §9.2.2: key = MD5(username ":" realm ":" password), or SHA-256 of the same string
 * when PASSWORD-ALGORITHM selected SHA-256.
 */
export function longTermKey(
  username: string,
  realm: string,
  password: string,
  passwordAlgorithm: number = PasswordAlgorithm.MD5,
): Buffer {
  const hash = passwordAlgorithm === PasswordAlgorithm.SHA256 ? 'sha256' : 'md5';
  return createHash(hash).update(`${username}:${saslPrep(realm)}:${saslPrep(password)}`, 'utf8').digest();
}

/** RFC 8489 §9.2.2 / §14.4: USERHASH = SHA-256(username ":" realm). */
export function userHash(username: string, realm: string): Buffer {
  return createHash('sha256').update(`${username}:${realm}`, 'utf8').digest();
}

/** HMAC over `bytes` (the message up to the integrity attribute, with the adjusted length). */
export function hmac(algorithm: IntegrityAlgorithm, key: Buffer, bytes: Uint8Array): Buffer {
  return createHmac(algorithm, key).update(bytes).digest();
}

/** Result of checking a received message's integrity. */
export type IntegrityCheck =
  | { readonly ok: true; readonly algorithm: IntegrityAlgorithm }
  | { readonly ok: false; readonly reason: 'missing' | 'mismatch' };

/**
 * Verify MESSAGE-INTEGRITY-SHA256 when present, otherwise MESSAGE-INTEGRITY (RFC 8489 §9.2.4:
 * a server uses the SHA-256 variant and ignores the other one). The HMAC covers the header,
 * with its length field adjusted to end right after the integrity attribute, and every
 * attribute before it (RFC 8489 §14.5).
 */
export function verifyIntegrity(message: StunMessage, key: Buffer): IntegrityCheck {
  const raw = message.raw;
  const sha256 = message.find(0x001c);
  const sha1 = message.find(0x0008);
  const attr = sha256 ?? sha1;
  if (!raw || !attr) return { ok: false, reason: 'missing' };
  const algorithm: IntegrityAlgorithm = sha256 ? 'sha256' : 'sha1';
  const covered = Buffer.from(raw.subarray(0, attr.offset));
  covered.writeUInt16BE(attr.offset - HEADER_LENGTH + 4 + attr.value.length, 2);
  const expected = hmac(algorithm, key, covered).subarray(0, attr.value.length);
  const ok = expected.length === attr.value.length && timingSafeEqual(expected, attr.value);
  return ok ? { ok: true, algorithm } : { ok: false, reason: 'mismatch' };
}
