/**
 * The seam between `pinhole serve` and the embedded STUN/TURN server (@pinhole/turn):
 * starts it on the hub's host with the hub's TURN secret, and turns its bound ports into
 * the `stun:` / `turn:` / `turns:` URLs the hub hands out in `welcome`.
 */
import { isIP, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { startTurnServer, type TurnServerPorts, type TurnStats } from '@pinhole/turn';

export interface EmbeddedTurnOptions {
  /** Address to listen on (same as the hub's). */
  host: string;
  /** UDP and TCP port (`--turn-port`, > 0). */
  port: number;
  /** TURN REST API shared secret (RFC draft-uberti-behave-turn-rest): the hub mints credentials with it. Absent: static users only. */
  secret?: string;
  /** Realm for long-term credentials. */
  realm: string;
  /** Host name or address clients should use in `turn:`/`stun:` URLs. */
  publicHost: string;
  /** TURN over TLS with the hub's certificate; absent with --no-tls or --turn-tls-port 0. */
  tls?: { cert: string; key: string; port: number };
  logger: Logger;
  /** Peer CIDRs relayed to despite the default-denied ranges (`--turn-allow-peer`). */
  allowPeers?: string[];
  /** Static long-term users besides REST credentials (`--turn-user`). */
  staticUsers?: Record<string, string>;
  /** Advertised relayed address (`--turn-external-ip`); default `publicHost` when it is an IP. */
  externalIp?: string;
  /** Relay port range. */
  minPort?: number;
  maxPort?: number;
  maxAllocations?: number;
  maxAllocationsPerUser?: number;
  /** Bytes/s per allocation; 0: no cap. */
  bandwidthBytesPerSecond?: number;
  /** TCP/TLS connection limits, in total and per source (`--turn-max-connections[-per-source]`). */
  maxStreamConnections?: number;
  maxStreamConnectionsPerSource?: number;
  /** Milliseconds a TCP/TLS connection may stay without an allocation (`--turn-connection-timeout`). */
  streamIdleTimeoutMs?: number;
}

export interface EmbeddedTurn {
  /** e.g. ['stun:198.51.100.7:3478'] */
  stunUrls: string[];
  /** e.g. ['turn:198.51.100.7:3478?transport=udp', 'turn:198.51.100.7:3478?transport=tcp'] */
  turnUrls: string[];
  /** Bound ports and the advertised relay address (absent from custom `startTurn` hooks). */
  ports?: TurnServerPorts;
  relayIp?: string;
  /** Serves TURN on a connection of the hub's shared port (`--single-port`); absent from custom hooks. */
  acceptConnection?: (socket: Socket, transport: 'tcp' | 'tls') => void;
  /** The server's counters, exported as pinhole_turn_* metrics (absent: no TURN metrics). */
  stats?: () => TurnStats;
  close(): Promise<void>;
}

/** Starts a TURN server, or returns `undefined` when none is available. */
export type StartTurn = (options: EmbeddedTurnOptions) => Promise<EmbeddedTurn | undefined>;

/** Printed by `serve` when a custom `startTurn` hook starts nothing. */
export const EMBEDDED_TURN_UNAVAILABLE = 'embedded TURN did not start';

export async function startEmbeddedTurn(options: EmbeddedTurnOptions): Promise<EmbeddedTurn> {
  const { host, port, secret, realm, publicHost, tls, logger, externalIp } = options;
  // Relayed addresses must be reachable by peers: advertise the public address when it is one.
  const relayIp = externalIp ?? (isIP(publicHost) ? publicHost : undefined);
  const server = await startTurnServer({
    listeningIp: host,
    udpPort: port,
    tcpPort: port,
    ...(secret !== undefined ? { secret } : {}),
    realm,
    ...(relayIp !== undefined ? { relayIp } : {}),
    ...(tls ? { tls } : {}),
    ...definedOnly({
      allowPeers: options.allowPeers,
      staticUsers: options.staticUsers,
      minPort: options.minPort,
      maxPort: options.maxPort,
      maxAllocations: options.maxAllocations,
      maxAllocationsPerUser: options.maxAllocationsPerUser,
      bandwidthBytesPerSecond: options.bandwidthBytesPerSecond,
      maxStreamConnections: options.maxStreamConnections,
      maxStreamConnectionsPerSource: options.maxStreamConnectionsPerSource,
      streamIdleTimeoutMs: options.streamIdleTimeoutMs,
    }),
    logger: logger.child({ component: 'turn' }),
  });
  const h = publicHost.includes(':') ? `[${publicHost}]` : publicHost;
  const { udp, tcp, tls: tlsPort } = server.ports;
  return {
    stunUrls: [`stun:${h}:${udp}`],
    turnUrls: [`turn:${h}:${udp}?transport=udp`, `turn:${h}:${tcp}?transport=tcp`, ...(tlsPort ? [`turns:${h}:${tlsPort}?transport=tcp`] : [])],
    ports: server.ports,
    relayIp: server.relayIp,
    acceptConnection: (socket, transport) => server.acceptConnection(socket, transport),
    stats: () => server.stats(),
    close: () => server.close(),
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
