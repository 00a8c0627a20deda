import { type Socket, createSocket } from 'node:dgram';
import { type LookupOneOptions, lookup } from 'node:dns';
import { isIP } from 'node:net';
import { DEFAULT_SOCKET_BUFFER_BYTES } from '../defaults.js';

/**
 * Bind a UDP socket; rejects on EADDRINUSE and friends instead of emitting 'error'. An IPv6
 * socket bound to `::` also receives IPv4 (dual stack); relay sockets stay single-family.
 */
export function bindUdp(family: 4 | 6, address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6 && address !== '::', lookup: lookupIpLiteral });
    const onError = (err: Error): void => {
      try {
        socket.close();
      } catch {
        // already closed
      }
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', onError);
      growBuffers(socket);
      resolve(socket);
    });
  });
}

/**
 * dgram resolves the destination of every send through its lookup function, and the default
 * (dns.lookup) answers even an IP literal on the next tick. We only ever send to IP literals
 * (client source addresses, peer addresses from XOR-PEER-ADDRESS), so answer those at once and
 * save that deferral on every relayed datagram; anything else still goes to dns.lookup.
 */
function lookupIpLiteral(
  hostname: string,
  options: LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else lookup(hostname, options, callback);
}

/** Ask for DEFAULT_SOCKET_BUFFER_BYTES of kernel buffer; the kernel may grant less. */
function growBuffers(socket: Socket): void {
  try {
    socket.setRecvBufferSize(DEFAULT_SOCKET_BUFFER_BYTES);
    socket.setSendBufferSize(DEFAULT_SOCKET_BUFFER_BYTES);
  } catch {
    // capped by net.core.rmem_max / wmem_max; the default buffers still work
  }
}

/** Close a UDP socket, ignoring "not running". */
export function closeUdp(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) → `1.2.3.4`. */
export function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
