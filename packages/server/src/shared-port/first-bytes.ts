/**
 * What the first bytes of a connection on the shared port say it is. Pure, so every edge
 * case is a table row in a unit test.
 */

/** A TLS record of type handshake (RFC 8446 §5.1): a ClientHello starts with it. */
export const TLS_HANDSHAKE_RECORD = 0x16;
/** RFC 8489 §5: the magic cookie, bytes 4–7 of every STUN message. */
export const STUN_MAGIC_COOKIE = 0x2112a442;
/** Bytes needed to tell a STUN header from garbage: type, length and the magic cookie. */
export const STUN_PEEK_BYTES = 8;

/** What a connection speaks, or `more` when the bytes so far cannot tell yet. */
export type FirstBytes = 'tls' | 'stun' | 'http' | 'garbage' | 'more';

/**
 * - TLS: a handshake record (0x16).
 * - STUN (RFC 8489 §5): the two most significant bits zero and the magic cookie at bytes 4–7.
 *   Over TCP a TURN client's first message is a STUN request (RFC 8656 §12.5); ChannelData
 *   (first bits 01) only follows an allocation, so it never starts a connection.
 * - HTTP/1.x: a request line starts with a method, a token; every method a browser or proxy
 *   sends (GET, POST, OPTIONS, CONNECT, …) is upper-case ASCII.
 * Anything else is garbage.
 */
export function classifyFirstBytes(head: Uint8Array): FirstBytes {
  const first = head[0];
  if (first === undefined) return 'more';
  if (first === TLS_HANDSHAKE_RECORD) return 'tls';
  if (first >= 0x41 && first <= 0x5a) return 'http';
  if ((first & 0xc0) !== 0) return 'garbage';
  if (head.length < STUN_PEEK_BYTES) return 'more';
  const cookie = ((head[4]! << 24) | (head[5]! << 16) | (head[6]! << 8) | head[7]!) >>> 0;
  return cookie === STUN_MAGIC_COOKIE ? 'stun' : 'garbage';
}
