import type { Server, Socket } from 'node:net';
import { MAX_STREAM_BUFFER_BYTES, STREAM_CLOSE_GRACE_MS } from '../defaults.js';
import { StreamFramer } from '../stun/framing.js';
import { type ClientTransport, type FiveTuple, fiveTupleKey } from '../turn/five-tuple.js';
import type { ConnectionLimits } from './connection-limits.js';
import { unmapIpv4 } from './udp.js';

/** What a stream listener reports to the server. */
export interface StreamHandlers {
  /** One framed STUN or ChannelData message. */
  onFrame(client: FiveTuple, frame: Buffer): void;
  onOpen(client: FiveTuple, key: string, socket: Socket): void;
  onClose(client: FiveTuple, key: string): void;
  /** A connection closed at once for being over a connection limit. */
  onRefused(remoteAddress: string | undefined): void;
  /** Whether the client holds an allocation (connections without one time out). */
  hasAllocation(client: FiveTuple): boolean;
}

/** How long connections may stay without an allocation, and how many there may be. */
export interface StreamPolicy {
  readonly idleTimeoutMs: number;
  readonly limits: ConnectionLimits;
}

/** The 5-tuple of an accepted connection, or undefined when the socket is already gone. */
function fiveTupleOf(socket: Socket, transport: ClientTransport): FiveTuple | undefined {
  if (!socket.remoteAddress || !socket.remotePort || !socket.localAddress || !socket.localPort) return undefined;
  return {
    transport,
    clientAddress: unmapIpv4(socket.remoteAddress),
    clientPort: socket.remotePort,
    serverAddress: unmapIpv4(socket.localAddress),
    serverPort: socket.localPort,
  };
}

/**
 * Serve TURN over a byte stream (TCP, or TLS when `server` is a tls.Server): frame the stream
 * (RFC 8656 §12.5), map each connection to its 5-tuple, and drop connections that send
 * garbage, are over a connection limit, or hold no allocation `idleTimeoutMs` after connecting.
 */
export function serveStream(server: Server, transport: ClientTransport, handlers: StreamHandlers, policy: StreamPolicy): void {
  /** Frame a connection's bytes and report them; `socket` is the TCP socket, or the TLS one after the handshake. */
  const accept = (socket: Socket, client: FiveTuple): void => {
    const key = fiveTupleKey(client);
    const framer = new StreamFramer(MAX_STREAM_BUFFER_BYTES, { requireStunFirst: true });
    socket.setNoDelay(true);
    handlers.onOpen(client, key, socket);
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = framer.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const frame of frames) handlers.onFrame(client, frame);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => handlers.onClose(client, key));
  };
  // Limits and the timeout apply to the TCP connection ('connection' comes before any TLS
  // handshake), so a client that never completes the handshake is bounded the same way. Over
  // TCP this is also the client's socket: its 5-tuple is taken once, here.
  server.on('connection', (raw: Socket) => {
    const client = fiveTupleOf(raw, transport);
    const source = client && policy.limits.admit(client.clientAddress);
    if (!client || !source) {
      if (client) handlers.onRefused(client.clientAddress);
      raw.destroy();
      return;
    }
    // Checked again every period while allocated: an allocation can also vanish without its
    // deletion closing the connection (a pending one whose relay socket failed: 508).
    const idle = setTimeout(() => {
      if (handlers.hasAllocation(client)) idle.refresh();
      else raw.destroy();
    }, policy.idleTimeoutMs);
    idle.unref();
    raw.once('close', () => {
      clearTimeout(idle);
      policy.limits.release(source);
    });
    if (transport === 'tcp') accept(raw, client);
  });
  if (transport !== 'tls') return;
  // The TLS socket is another object than the raw one, and Node offers no public link between
  // the two, so its 5-tuple is read again once the handshake is done.
  server.on('secureConnection', (socket: Socket) => {
    const client = socket.destroyed ? undefined : fiveTupleOf(socket, transport);
    if (client) accept(socket, client);
  });
  server.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
}

/**
 * End a client connection after what is queued for it (e.g. the Refresh response) is sent,
 * and destroy it if the client has not closed its side within STREAM_CLOSE_GRACE_MS.
 */
export function closeStream(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end();
  const grace = setTimeout(() => socket.destroy(), STREAM_CLOSE_GRACE_MS);
  grace.unref();
  socket.once('close', () => clearTimeout(grace));
}

/** Listen and resolve with the bound port; rejects instead of emitting 'error'. */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
