/** Pinhole's TURN server for tests: loopback, ephemeral ports, TLS with the kit's test certificate, REST credentials. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type TurnServer, type TurnServerOptions, startTurnServer, turnCredentials } from '@pinhole/turn';

export const SECRET = 'test-secret';
/** A self-signed certificate and key for TLS listeners in tests (files, for CLI flags, and contents). */
export const TLS_CERT_PATH = fileURLToPath(new URL('../fixtures/tls-cert.pem', import.meta.url));
export const TLS_KEY_PATH = fileURLToPath(new URL('../fixtures/tls-key.pem', import.meta.url));
export const TLS_CERT = readFileSync(TLS_CERT_PATH);
export const TLS_KEY = readFileSync(TLS_KEY_PATH);

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
