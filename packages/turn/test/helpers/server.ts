import { readFileSync } from 'node:fs';
import { type TurnServer, type TurnServerOptions, startTurnServer, turnCredentials } from '../../src/index.js';

export const SECRET = 'test-secret';
export const TLS_CERT = readFileSync(new URL('../fixtures/tls-cert.pem', import.meta.url));
export const TLS_KEY = readFileSync(new URL('../fixtures/tls-key.pem', import.meta.url));

/** Our server on 127.0.0.1 with ephemeral ports, loopback peers allowed, TLS on. */
export function startTestServer(options: TurnServerOptions = {}): Promise<TurnServer> {
  return startTurnServer({
    listeningIp: '127.0.0.1',
    udpPort: 0,
    tcpPort: 0,
    tls: { cert: TLS_CERT, key: TLS_KEY, port: 0 },
    secret: SECRET,
    allowPeers: ['127.0.0.0/8'],
    minPort: 40000,
    maxPort: 48999,
    ...options,
  });
}

/** Fresh REST credentials for `identity`. */
export function creds(identity = 'alice', ttlSeconds = 600): { username: string; password: string } {
  const c = turnCredentials(SECRET, identity, ttlSeconds);
  return { username: c.username, password: c.credential };
}

/** Poll `check` until it is true or `timeoutMs` passes. */
export async function eventually(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
