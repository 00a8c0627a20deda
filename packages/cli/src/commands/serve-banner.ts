/** The human-readable start-up text of `serve`, written to stderr (stdout carries JSON logs). */
import type { ServedUrls } from '../addresses.js';
import type { TlsMaterial } from '../tls.js';

/** Below this many characters an HS256 secret is easy to brute-force offline from one token. */
export const MIN_SECRET_LENGTH = 32;

export interface BannerInput {
  urls: ServedUrls;
  tls: TlsMaterial | undefined;
  devMode: boolean;
  turnUrls: string[];
  notes: string[];
  secretLength: number | undefined;
}

export function renderBanner(b: BannerInput): string {
  const lines: string[] = ['', 'pinhole hub listening on:', `  ${b.urls.local}`, `  ${b.urls.ws}  (signaling WebSocket)`];
  for (const lan of b.urls.lan) lines.push(`  ${lan}  (LAN)`);
  lines.push('');
  if (!b.tls) {
    lines.push('TLS: off (--no-tls): plain HTTP, put a TLS-terminating proxy in front; browsers need HTTPS for camera/mic.');
  } else if (b.tls.origin === 'files') {
    lines.push(`TLS: ${b.tls.certPath} (SHA-256 ${b.tls.fingerprint256})`);
  } else {
    const how = b.tls.origin === 'self-signed-created' ? 'generated now' : 'reused';
    lines.push(
      `TLS: SELF-SIGNED certificate (${how}) ${b.tls.certPath}`,
      `     valid for ${b.tls.subjectAltNames.join(', ')} until ${b.tls.validTo.toISOString().slice(0, 10)}`,
      `     SHA-256 ${b.tls.fingerprint256}`,
      '     browsers will warn once; for production use --tls-cert/--tls-key or a TLS proxy.',
    );
  }
  if (b.turnUrls.length > 0) lines.push(`TURN: ${b.turnUrls.join(' ')}`);
  lines.push(...b.notes);
  if (b.devMode) {
    lines.push(
      '',
      '!!! ================================================================= !!!',
      '!!!  DEV MODE: no --secret / PINHOLE_SECRET set.                       !!!',
      '!!!  Anyone who can reach this port may join ANY room, with no token.  !!!',
      '!!!  Set a secret before exposing the hub beyond your own machine.     !!!',
      '!!! ================================================================= !!!',
    );
  } else if (b.secretLength !== undefined && b.secretLength < MIN_SECRET_LENGTH) {
    lines.push(`WARNING: the secret is ${b.secretLength} characters; use at least ${MIN_SECRET_LENGTH} random characters (e.g. openssl rand -base64 32).`);
  }
  lines.push('', 'Ctrl-C stops the hub.', '');
  return lines.join('\n');
}
