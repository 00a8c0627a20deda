import type { Server, Socket } from 'node:net';
import { DEFAULT_STREAM_IDLE_TIMEOUT_MS, MAX_STREAM_BUFFER_BYTES } from '../defaults.js';
import { StreamFramer } from '../stun/framing.js';
import { type ClientTransport, type FiveTuple, fiveTupleKey } from '../turn/five-tuple.js';
import { unmapIpv4 } from './udp.js';

/** What a stream listener reports to the server. */
export interface StreamHandlers {
  /** One framed STUN or ChannelData message. */
  onFrame(client: FiveTuple, frame: Buffer): void;
  onOpen(client: FiveTuple, key: string, socket: Socket): void;
  onClose(client: FiveTuple, key: string): void;
  /** Whether the client holds an allocation (connections without one time out). */
  hasAllocation(client: FiveTuple): boolean;
}

/**
 * Serve TURN over a byte stream (TCP, or TLS when `server` is a tls.Server): frame the stream
 * (RFC 8656 §12.5), map each connection to its 5-tuple, and drop connections that send
 * garbage or never allocate within DEFAULT_STREAM_IDLE_TIMEOUT_MS.
 */
export function serveStream(server: Server, transport: ClientTransport, handlers: StreamHandlers): void {
  const event = transport === 'tls' ? 'secureConnection' : 'connection';
  server.on(event, (socket: Socket) => {
    if (!socket.remoteAddress || !socket.remotePort || !socket.localAddress || !socket.localPort) {
      socket.destroy();
      return;
    }
    const client: FiveTuple = {
      transport,
      clientAddress: unmapIpv4(socket.remoteAddress),
      clientPort: socket.remotePort,
      serverAddress: unmapIpv4(socket.localAddress),
      serverPort: socket.localPort,
    };
    const key = fiveTupleKey(client);
    const framer = new StreamFramer(MAX_STREAM_BUFFER_BYTES, { requireStunFirst: true });
    socket.setNoDelay(true);
    handlers.onOpen(client, key, socket);
    const idle = setTimeout(() => {
      if (!handlers.hasAllocation(client)) socket.destroy();
    }, DEFAULT_STREAM_IDLE_TIMEOUT_MS);
    idle.unref();
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
    socket.on('close', () => {
      clearTimeout(idle);
      handlers.onClose(client, key);
    });
  });
  if (transport === 'tls') server.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
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
