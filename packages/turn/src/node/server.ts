import { randomBytes } from 'node:crypto';
import type { Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { type Server, type Socket, createServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { MAX_STREAM_WRITE_BUFFER_BYTES } from '../defaults.js';
import { TurnError, bindFailed } from '../errors.js';
import { type TurnServerOptions, resolveOptions } from '../options.js';
import { ipFamily } from '../stun/address.js';
import type { TurnAction } from '../turn/actions.js';
import { TurnServerCore } from '../turn/core.js';
import { type FiveTuple, fiveTupleKey } from '../turn/five-tuple.js';
import type { TurnStats } from '../turn/stats.js';
import { ConnectionLimits } from './connection-limits.js';
import { type RelaySocket, RelayPortPool } from './relay-pool.js';
import { closeStream, listen, serveStream } from './stream.js';
import { bindUdp, closeUdp } from './udp.js';
import { UdpClients } from './udp-clients.js';

/** The bound ports of a running server (useful with port 0). */
export interface TurnServerPorts {
  readonly udp: number;
  readonly tcp: number;
  readonly tls: number | undefined;
}

/** A running TURN server. */
export interface TurnServer {
  readonly ports: TurnServerPorts;
  /** The address advertised in XOR-RELAYED-ADDRESS. */
  readonly relayIp: string;
  /**
   * Serve TURN on a connection accepted elsewhere, e.g. on a port shared with HTTPS:
   * `transport` 'tcp' for a plain socket, 'tls' for a TLSSocket whose handshake is done.
   * Bytes the caller peeked must be back in the socket (`unshift`). The connection limits
   * and idle timeout of the server's own TCP/TLS listeners apply to it too.
   */
  acceptConnection(socket: Socket, transport: 'tcp' | 'tls'): void;
  /** Counters and gauges; see TurnStats. */
  stats(): TurnStats;
  /** Stop listening, drop every allocation and close every socket. */
  close(): Promise<void>;
}

/** A host name given as `listeningIp`/`host` (e.g. 'localhost') becomes its first address. */
async function resolveListeningHost(options: TurnServerOptions): Promise<TurnServerOptions> {
  const host = options.listeningIp ?? options.host;
  if (host === undefined || ipFamily(host)) return options;
  try {
    const { address } = await lookup(host);
    return { ...options, listeningIp: address };
  } catch (err) {
    throw new TurnError('invalid-options', `cannot resolve listening host ${host}`, { cause: err });
  }
}

/**
 * Start a STUN/TURN server (RFC 8489 / RFC 8656) on UDP, TCP and optionally TLS. Resolves once
 * every listener is bound; rejects with TurnError 'invalid-options' or 'bind-failed'.
 */
export async function startTurnServer(options: TurnServerOptions = {}): Promise<TurnServer> {
  const opts = resolveOptions(await resolveListeningHost(options));
  const relayFamily = ipFamily(opts.relayIp) ?? 4;
  const core = new TurnServerCore({ ...opts, relayFamily }, { now: Date.now, randomBytes, logger: opts.logger });
  const pool = new RelayPortPool(ipFamily(opts.relayBindIp) ?? 4, opts.relayBindIp, opts.minPort, opts.maxPort);
  const relays = new Map<number, RelaySocket>();
  const connections = new Map<string, Socket>();
  const log = opts.logger;
  let closed = false;
  let udp: UdpSocket | undefined;

  const sendToClient = (to: FiveTuple, data: Buffer): void => {
    if (to.transport === 'udp') {
      udp?.send(data, to.clientPort, to.clientAddress);
      return;
    }
    const socket = connections.get(fiveTupleKey(to));
    // A slow stream client loses datagrams rather than growing our memory without bound.
    if (socket && !socket.destroyed && socket.writableLength <= MAX_STREAM_WRITE_BUFFER_BYTES) socket.write(data);
  };

  const openRelay = async (action: Extract<TurnAction, { type: 'open-relay' }>): Promise<void> => {
    const { allocationId } = action;
    let relay: RelaySocket;
    let reserved = false;
    try {
      if (action.useReservation) {
        const held = pool.take(action.useReservation);
        if (!held) throw new Error('reservation expired');
        relay = held;
      } else {
        ({ reserved, ...relay } = await pool.open(action.evenPort, action.reserveToken));
      }
    } catch (err) {
      log?.warn({ err, allocationId }, 'turn: cannot open relay socket');
      execute(core.relayFailed(allocationId));
      return;
    }
    if (closed) {
      await pool.close(relay);
      return;
    }
    relays.set(allocationId, relay);
    relay.socket.on('message', (msg, rinfo) => {
      execute(core.handlePeerPacket(allocationId, { family: rinfo.family === 'IPv6' ? 6 : 4, address: rinfo.address, port: rinfo.port }, msg));
    });
    relay.socket.on('error', (err) => log?.debug({ err, allocationId }, 'turn: relay socket error'));
    execute(core.relayOpened(allocationId, { family: relayFamily, address: opts.relayIp, port: relay.port }, reserved));
  };

  const execute = (actions: TurnAction[]): void => {
    for (const action of actions) {
      switch (action.type) {
        case 'send-to-client':
          sendToClient(action.to, action.data);
          break;
        case 'send-to-peer':
          relays.get(action.allocationId)?.socket.send(action.data, action.peer.port, action.peer.address);
          break;
        case 'open-relay':
          void openRelay(action);
          break;
        case 'close-relay': {
          const relay = relays.get(action.allocationId);
          relays.delete(action.allocationId);
          if (relay) void pool.close(relay);
          break;
        }
        case 'release-reservation':
          void pool.release(action.token);
          break;
        case 'close-client': {
          const socket = connections.get(fiveTupleKey(action.to));
          if (socket) closeStream(socket);
          break;
        }
      }
    }
  };

  const streamHandlers = {
    onFrame: (client: FiveTuple, frame: Buffer) => execute(core.handleClientPacket(client, frame)),
    onOpen: (_client: FiveTuple, key: string, socket: Socket) => void connections.set(key, socket),
    onClose: (client: FiveTuple, key: string) => {
      connections.delete(key);
      execute(core.clientClosed(client));
    },
    hasAllocation: (client: FiveTuple) => core.hasAllocation(client),
    onRefused: (remoteAddress: string | undefined) => {
      core.connectionRefused();
      log?.debug({ remoteAddress }, 'turn: connection over the limit closed');
    },
  };
  // TCP and TLS share the limits: both cost a file descriptor and memory.
  const streamPolicy = {
    idleTimeoutMs: opts.streamIdleTimeoutMs,
    limits: new ConnectionLimits(opts.maxStreamConnections, opts.maxStreamConnectionsPerSource),
  };

  const listenerFamily = ipFamily(opts.listeningIp) ?? 4;
  const servers: Server[] = [];
  const shutdown = async (): Promise<void> => {
    closed = true;
    clearInterval(ticker);
    for (const socket of connections.values()) socket.destroy();
    connections.clear();
    const closing: Promise<unknown>[] = servers.map((s) => new Promise((resolve) => s.close(resolve)));
    if (udp) closing.push(closeUdp(udp));
    for (const relay of relays.values()) closing.push(pool.close(relay));
    relays.clear();
    closing.push(pool.closeAll());
    await Promise.all(closing);
  };
  const ticker = setInterval(() => execute(core.tick()), opts.tickIntervalMs);
  ticker.unref();

  try {
    udp = await bindUdp(listenerFamily, opts.listeningIp, opts.udpPort).catch((err: unknown) => {
      throw bindFailed(`UDP ${opts.listeningIp}:${opts.udpPort}`, err);
    });
    const udpSocket = udp;
    const serverPort = udpSocket.address().port;
    const udpClients = new UdpClients(opts.listeningIp, serverPort);
    udpSocket.on('message', (msg, rinfo) => {
      const client = udpClients.get(rinfo.address, rinfo.port);
      execute(core.handleClientPacket(client.tuple, msg, client.tupleKey));
    });
    udpSocket.on('error', (err) => log?.debug({ err }, 'turn: UDP listener error'));

    const tcp = createServer();
    servers.push(tcp);
    serveStream(tcp, 'tcp', streamHandlers, streamPolicy);
    const tcpPort = await listen(tcp, opts.listeningIp, opts.tcpPort).catch((err: unknown) => {
      throw bindFailed(`TCP ${opts.listeningIp}:${opts.tcpPort}`, err);
    });

    let tlsPort: number | undefined;
    if (opts.tls) {
      const tls = createTlsServer({ cert: opts.tls.cert, key: opts.tls.key });
      servers.push(tls);
      serveStream(tls, 'tls', streamHandlers, streamPolicy);
      tlsPort = await listen(tls, opts.listeningIp, opts.tls.port).catch((err: unknown) => {
        throw bindFailed(`TLS ${opts.listeningIp}:${opts.tls?.port}`, err);
      });
    }
    // Connections accepted elsewhere enter through servers that never listen: the same
    // serveStream code then frames them, maps their 5-tuple and applies the same limits.
    const adopted = { tcp: createServer(), tls: createServer() };
    serveStream(adopted.tcp, 'tcp', streamHandlers, streamPolicy);
    serveStream(adopted.tls, 'tls', streamHandlers, streamPolicy);
    const acceptConnection = (socket: Socket, transport: 'tcp' | 'tls'): void => {
      if (closed) {
        socket.destroy();
        return;
      }
      adopted[transport].emit('connection', socket);
      if (transport === 'tls') adopted.tls.emit('secureConnection', socket);
    };
    const ports = { udp: serverPort, tcp: tcpPort, tls: tlsPort };
    log?.info({ ports, relayIp: opts.relayIp, realm: opts.realm }, 'turn: listening');
    return {
      ports,
      relayIp: opts.relayIp,
      acceptConnection,
      stats: () => ({ ...core.stats(), connections: connections.size }),
      close: shutdown,
    };
  } catch (err) {
    await shutdown();
    throw err;
  }
}
