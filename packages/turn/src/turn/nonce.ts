import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * RFC 8489 §9.2: a nonce starting with this cookie and four base64 characters of "security
 * feature" bits announces RFC 8489 features. We set bit 0, "Password algorithms" (0x800000 →
 * "gAAA"). Older clients just treat the nonce as opaque.
 */
export const NONCE_COOKIE = 'obMatJos2';
export const NONCE_FEATURES = 'gAAA';
const PREFIX = NONCE_COOKIE + NONCE_FEATURES;
const EXPIRY_HEX = 8;
const MAC_HEX = 24;

/**
 * Stateless nonces (RFC 8489 §9.2.2 leaves the format to the server): prefix, expiry in Unix
 * seconds (hex), and an HMAC over expiry and client IP, so a nonce cannot be forged, reused
 * from another address or kept past its lifetime — and no per-client state is stored.
 */
export class NonceIssuer {
  constructor(
    private readonly key: Buffer,
    private readonly lifetimeMs: number,
  ) {}

  issue(clientIp: string, now: number): string {
    const expiry = Math.floor((now + this.lifetimeMs) / 1000)
      .toString(16)
      .padStart(EXPIRY_HEX, '0');
    return PREFIX + expiry + this.mac(expiry, clientIp);
  }

  /** Whether `nonce` was issued by us to `clientIp` and is still fresh at `now`. */
  isValid(nonce: string, clientIp: string, now: number): boolean {
    if (nonce.length !== PREFIX.length + EXPIRY_HEX + MAC_HEX || !nonce.startsWith(PREFIX)) return false;
    const expiry = nonce.slice(PREFIX.length, PREFIX.length + EXPIRY_HEX);
    const mac = Buffer.from(nonce.slice(PREFIX.length + EXPIRY_HEX), 'utf8');
    const expected = Buffer.from(this.mac(expiry, clientIp), 'utf8');
    if (!timingSafeEqual(mac, expected)) return false;
    return parseInt(expiry, 16) * 1000 > now;
  }

  private mac(expiry: string, clientIp: string): string {
    return createHmac('sha256', this.key).update(`${expiry}|${clientIp}`).digest('hex').slice(0, MAC_HEX);
  }
}
