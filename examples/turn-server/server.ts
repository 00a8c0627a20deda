/**
 * A STUN/TURN server embedded in your own Node process (@pinhole/turn), with TURN REST API
 * credentials: your backend mints short-lived `iceServers` for each user from a shared secret,
 * and the TURN server checks them without any user database.
 *
 *   TURN_SECRET=$(openssl rand -base64 32) node --experimental-strip-types examples/turn-server/server.ts
 *
 * Environment: TURN_SECRET (required), TURN_HOST (listen address, default 0.0.0.0),
 * TURN_PORT (UDP and TCP, default 3478), TURN_PUBLIC_IP (address peers reach the relays on).
 */
import { pathToFileURL } from 'node:url';
import { startTurnServer, turnCredentials, type TurnServer } from '@pinhole/turn';

export interface ExampleOptions {
  secret: string;
  host?: string;
  port?: number;
  /** Advertised relayed address; default the listen address (127.0.0.1 when listening on 0.0.0.0). */
  publicIp?: string;
  /** Peer ranges to relay to despite the default deny-list (loopback, RFC 1918, …): tests use 127.0.0.0/8. */
  allowPeers?: string[];
}

export interface ExampleTurn {
  server: TurnServer;
  /** What to put in `new RTCPeerConnection({ iceServers })` for `identity`, valid for `ttlSeconds`. */
  iceServersFor(identity: string, ttlSeconds?: number): { urls: string[]; username?: string; credential?: string }[];
  close(): Promise<void>;
}

export async function startExampleTurn(options: ExampleOptions): Promise<ExampleTurn> {
  const port = options.port ?? 3478;
  const server = await startTurnServer({
    listeningIp: options.host ?? '0.0.0.0',
    udpPort: port,
    tcpPort: port,
    secret: options.secret,
    ...(options.publicIp ? { relayIp: options.publicIp } : {}),
    ...(options.allowPeers ? { allowPeers: options.allowPeers } : {}),
  });
  const host = options.publicIp ?? server.relayIp;
  return {
    server,
    iceServersFor(identity, ttlSeconds = 3600) {
      const { username, credential } = turnCredentials(options.secret, identity, ttlSeconds);
      return [
        { urls: [`stun:${host}:${server.ports.udp}`] },
        { urls: [`turn:${host}:${server.ports.udp}?transport=udp`, `turn:${host}:${server.ports.tcp}?transport=tcp`], username, credential },
      ];
    },
    close: () => server.close(),
  };
}

async function main(): Promise<void> {
  const secret = process.env.TURN_SECRET;
  if (!secret) {
    console.error('set TURN_SECRET (e.g. TURN_SECRET=$(openssl rand -base64 32))');
    process.exit(2);
  }
  const turn = await startExampleTurn({
    secret,
    host: process.env.TURN_HOST ?? '0.0.0.0',
    port: Number(process.env.TURN_PORT ?? 3478),
    ...(process.env.TURN_PUBLIC_IP ? { publicIp: process.env.TURN_PUBLIC_IP } : {}),
  });
  console.log(`TURN listening: UDP ${turn.server.ports.udp}, TCP ${turn.server.ports.tcp}; relays on ${turn.server.relayIp}`);
  console.log('iceServers for "alice" (1 h):');
  console.log(JSON.stringify(turn.iceServersFor('alice'), null, 2));
  const timer = setInterval(() => {
    const s = turn.server.stats();
    console.log(`allocations ${s.allocations}, relayed ${s.bytesToPeers + s.bytesFromPeers} bytes, auth failures ${s.authFailures}`);
  }, 10_000);
  const stop = (): void => {
    clearInterval(timer);
    void turn.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
