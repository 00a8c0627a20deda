/**
 * One TCP port for HTTPS/WSS, TURN over TLS and STUN/TURN over TCP (or plain HTTP and
 * STUN/TURN over TCP without TLS), told apart per connection:
 *   1. the first bytes (see first-bytes.ts): a TLS ClientHello, a STUN header, an HTTP method;
 *   2. after a TLS handshake, the ALPN protocol the client offered (browsers offer
 *      `h2, http/1.1` and get `http/1.1`; RFC 7443 clients such as coturn's offer `stun.turn`
 *      and get it; Chromium's TURN/TLS client offers none) or else the first decrypted
 *      bytes, classified the same way.
 * Bytes are peeked in paused mode and put back with `unshift`, so the handler that gets the
 * socket reads them again (a TLSSocket takes what its raw socket has buffered as received).
 * A connection that is not classified within `classifyTimeoutMs`, sends garbage, or would
 * go past the pending-connection limits is destroyed on its own: the others never wait.
 */
import { type Server, type Socket, createServer } from 'node:net';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import { ConnectionLimits } from '@pinhole/turn';
import { STUN_PEEK_BYTES, classifyFirstBytes, type FirstBytes } from './first-bytes.js';

/** What an accepted connection turned out to be. */
export type SharedPortProtocol = 'http' | 'https' | 'turn-tcp' | 'turn-tls';
/** Why a connection was closed before reaching a handler. */
export type SharedPortRefusal = 'over-limit' | 'timeout' | 'garbage' | 'tls-failed' | 'unserved';

export const SHARED_PORT_PROTOCOLS: readonly SharedPortProtocol[] = ['http', 'https', 'turn-tcp', 'turn-tls'];
export const SHARED_PORT_REFUSALS: readonly SharedPortRefusal[] = ['over-limit', 'timeout', 'garbage', 'tls-failed', 'unserved'];

/** ALPN protocol IDs (IANA registry): HTTP/1.1, and TURN and STUN over TLS (RFC 7443). */
const ALPN_HTTP = 'http/1.1';
const ALPN_TURN = 'stun.turn';
const ALPN_STUN = 'stun.nat-discovery';
/**
 * In the server's order of preference, which is what OpenSSL picks by: coturn's client offers
 * `http/1.1, stun.turn, stun.nat-discovery`, and must get `stun.turn`; browsers never offer
 * the STUN ones. A client offering none of these fails the handshake (`tls-failed`).
 */
const ALPN_PROTOCOLS = [ALPN_TURN, ALPN_STUN, ALPN_HTTP];

export interface SharedPortOptions {
  /** PEM certificate and key: HTTPS/WSS and TURN/TLS. Absent: plain HTTP and STUN/TURN over TCP. */
  tls?: { cert: string | Buffer; key: string | Buffer } | undefined;
  /** Takes an HTTP connection, decrypted when TLS is on (e.g. `httpServer.emit('connection', s)`). */
  http(socket: Socket): void;
  /** Takes a STUN/TURN connection (a TLSSocket after its handshake for 'tls'). Absent: STUN is refused. */
  stun?: ((socket: Socket, transport: 'tcp' | 'tls') => void) | undefined;
  /** Milliseconds from accept to a decision, TLS handshake included. */
  classifyTimeoutMs: number;
  /** Connections not yet classified, in total and per client IPv4 address or IPv6 /64. */
  maxPending: number;
  maxPendingPerSource: number;
  onAccepted?(protocol: SharedPortProtocol): void;
  onRefused?(reason: SharedPortRefusal, remoteAddress: string | undefined): void;
}

export interface SharedPort {
  /** Listen on it; every connection is classified and handed on. */
  readonly server: Server;
  /** Connections accepted and not yet classified. */
  pending(): number;
  /** Destroys every connection of the port, handed on or not (when the hub stops). */
  destroyAll(): void;
}

export function createSharedPort(options: SharedPortOptions): SharedPort {
  const secureContext: SecureContext | undefined = options.tls && createSecureContext({ cert: options.tls.cert, key: options.tls.key });
  const limits = new ConnectionLimits(options.maxPending, options.maxPendingPerSource);
  const pending = new Set<Socket>();
  // Every open connection (the TLSSocket once there is one): the hub's stop ends them all.
  const live = new Set<Socket>();
  const track = (socket: Socket): void => {
    live.add(socket);
    socket.once('close', () => live.delete(socket));
  };

  const server = createServer({ pauseOnConnect: true }, (raw) => {
    // On a dual-stack listener ('::') IPv4 clients arrive as ::ffff:a.b.c.d: counted per IPv4
    // address, not all together in one IPv6 /64.
    const address = raw.remoteAddress?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    const source = address === undefined ? undefined : limits.admit(address);
    if (source === undefined) {
      options.onRefused?.('over-limit', raw.remoteAddress);
      raw.destroy();
      return;
    }
    pending.add(raw);
    track(raw);
    let settled = false;
    /** Ends the pending phase once: the socket was handed on, or refused and destroyed. */
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(deadline);
      pending.delete(raw);
      limits.release(source);
      return true;
    };
    const refuse = (reason: SharedPortRefusal, socket: Socket = raw): void => {
      if (!settle()) return;
      options.onRefused?.(reason, raw.remoteAddress);
      socket.destroy();
      raw.destroy();
    };
    const accept = (protocol: SharedPortProtocol, handOn: () => void): void => {
      if (!settle()) return;
      options.onAccepted?.(protocol);
      handOn();
    };
    const deadline = setTimeout(() => refuse('timeout'), options.classifyTimeoutMs);
    deadline.unref();
    raw.on('error', () => raw.destroy());
    // A client gone before a decision is neither served nor refused: just forgotten.
    raw.once('close', () => settle());

    void peek(raw).then((head) => {
      const kind = head ? classifyFirstBytes(head) : 'garbage';
      if (kind === 'tls' && secureContext) return handshake(raw, secureContext, refuse, accept);
      if (kind === 'stun' && options.stun) {
        const stun = options.stun;
        return accept('turn-tcp', () => stun(raw, 'tcp'));
      }
      if (kind === 'http' && !secureContext) return accept('http', () => options.http(raw));
      refuse(kind === 'garbage' ? 'garbage' : 'unserved');
    });
  });

  const handshake = (
    raw: Socket,
    context: SecureContext,
    refuse: (reason: SharedPortRefusal, socket?: Socket) => void,
    accept: (protocol: SharedPortProtocol, handOn: () => void) => void,
  ): void => {
    const socket = new TLSSocket(raw, { isServer: true, secureContext: context, ALPNProtocols: ALPN_PROTOCOLS });
    track(socket);
    socket.on('error', () => refuse('tls-failed', socket));
    socket.once('secure', () => {
      const toStun = (): void => {
        const stun = options.stun;
        if (stun) accept('turn-tls', () => stun(socket, 'tls'));
        else refuse('unserved', socket);
      };
      if (socket.alpnProtocol === ALPN_HTTP) return accept('https', () => options.http(socket));
      if (socket.alpnProtocol === ALPN_TURN || socket.alpnProtocol === ALPN_STUN) return toStun();
      void peek(socket).then((head) => {
        const kind: FirstBytes = head ? classifyFirstBytes(head) : 'garbage';
        if (kind === 'http') accept('https', () => options.http(socket));
        else if (kind === 'stun') toStun();
        else refuse('garbage', socket);
      });
    });
  };

  return {
    server,
    pending: () => pending.size,
    destroyAll: () => {
      for (const socket of live) socket.destroy();
    },
  };
}

/**
 * Reads in paused mode until the bytes tell what the stream is (at most STUN_PEEK_BYTES
 * are needed, one read's worth may be held), then puts them back with `unshift` and
 * resolves with them; undefined when the stream ends or closes first.
 */
function peek(stream: Socket): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    let head = Buffer.alloc(0);
    const finish = (result: Buffer | undefined): void => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      if (result) stream.unshift(result);
      resolve(result);
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while (head.length < STUN_PEEK_BYTES && (chunk = stream.read() as Buffer | null) !== null) head = Buffer.concat([head, chunk]);
      if (classifyFirstBytes(head) !== 'more') finish(head);
    };
    const onEnd = (): void => finish(undefined);
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('close', onEnd);
  });
}
