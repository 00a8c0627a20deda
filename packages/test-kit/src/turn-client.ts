import { type Socket as UdpSocket, createSocket } from 'node:dgram';
import { type Socket, connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  type AttributeName,
  type AttributeValue,
  ErrorCode,
  MessageClass,
  Method,
  StreamFramer,
  StunMessage,
  type TransportAddress,
  decodeChannelData,
  decodeStunMessage,
  encodeChannelData,
  longTermKey,
  looksLikeChannelData,
} from '@pinhole/turn';

export type TestTransport = 'udp' | 'tcp' | 'tls';

/** Something received from the server that is not a response: a Data indication or ChannelData. */
export interface Received {
  readonly peer?: TransportAddress;
  readonly channel?: number;
  readonly data: Buffer;
}

type Attr = { [N in AttributeName]: [N, AttributeValue<N>] }[AttributeName];

/**
 * A minimal TURN client for tests (and nothing else): one transport, long-term credentials,
 * request/response matching by transaction ID, and a queue of relayed data.
 */
export class TestTurnClient {
  private readonly waiting = new Map<string, (m: StunMessage) => void>();
  private readonly received: Received[] = [];
  private readonly receivedWaiters: (() => void)[] = [];
  private realm = '';
  private nonce = '';
  private key: Buffer | undefined;
  /** Resolves when a TCP/TLS connection closes, whichever side closed it (never for UDP). */
  closed: Promise<void> = new Promise(() => undefined);

  private constructor(
    readonly transport: TestTransport,
    private readonly write: (data: Buffer) => void,
    private readonly closeTransport: () => void,
    private readonly username: string,
    private readonly password: string,
  ) {}

  /** `local` picks the client's own address (default 127.0.0.1) and, for UDP, its port (default any). */
  static async connect(opts: {
    transport: TestTransport;
    port: number;
    username: string;
    password: string;
    local?: { address: string; port?: number };
  }): Promise<TestTurnClient> {
    const { transport, port, username, password, local = { address: '127.0.0.1', port: 0 } } = opts;
    if (transport === 'udp') {
      const socket: UdpSocket = createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(local.port ?? 0, local.address, resolve));
      const client = new TestTurnClient(transport, (d) => socket.send(d, port, '127.0.0.1'), () => socket.close(), username, password);
      socket.on('message', (msg) => client.onPacket(msg));
      return client;
    }
    const socket: Socket = await new Promise((resolve, reject) => {
      const s =
        transport === 'tcp'
          ? connect({ host: '127.0.0.1', port, localAddress: local.address }, () => resolve(s))
          : tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...{ localAddress: local.address } }, () => resolve(s));
      s.once('error', reject);
    });
    socket.on('error', () => undefined);
    const client = new TestTurnClient(transport, (d) => socket.write(d), () => socket.destroy(), username, password);
    client.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    const framer = new StreamFramer(1 << 20);
    socket.on('data', (chunk: Buffer) => framer.push(chunk).forEach((f) => client.onPacket(f)));
    return client;
  }

  close(): void {
    this.closeTransport();
  }

  /** Send raw bytes as they are. */
  sendRaw(data: Buffer): void {
    this.write(data);
  }

  /** Send a request and wait for its response (or reject after `timeoutMs`). */
  request(message: StunMessage, timeoutMs = 2000, key = this.key): Promise<StunMessage> {
    const id = message.transactionId.toString('hex');
    const data = message.encode({ ...(key && { integrity: { key, algorithm: 'sha1' as const } }), fingerprint: true });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no response to ${id}`));
      }, timeoutMs);
      this.waiting.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.write(data);
    });
  }

  /**
   * An authenticated request: adds USERNAME/REALM/NONCE once known, retries once on 401/438
   * with the server's REALM and NONCE. Returns the final response. `extra` adds what `attrs`
   * cannot express (e.g. a malformed raw attribute).
   */
  async authRequest(method: number, attrs: Attr[] = [], extra?: (m: StunMessage) => void): Promise<StunMessage> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const message = new StunMessage(method, MessageClass.Request);
      for (const [name, value] of attrs) message.add(name, value as never);
      extra?.(message);
      if (this.nonce) message.add('USERNAME', this.username).add('REALM', this.realm).add('NONCE', this.nonce);
      const response = await this.request(message);
      const error = response.get('ERROR-CODE');
      if (error && (error.code === ErrorCode.Unauthenticated || error.code === ErrorCode.StaleNonce) && response.has('NONCE')) {
        const firstChallenge = !this.nonce || error.code === ErrorCode.StaleNonce;
        this.realm = response.get('REALM') ?? '';
        this.nonce = response.get('NONCE') ?? '';
        this.key = longTermKey(this.username, this.realm, this.password);
        if (firstChallenge) continue;
      }
      return response;
    }
    throw new Error('authentication loop');
  }

  /** Allocate a UDP relay; returns the XOR-RELAYED-ADDRESS or throws with the error code. */
  async allocate(extra: Attr[] = []): Promise<TransportAddress> {
    const response = await this.authRequest(Method.Allocate, [['REQUESTED-TRANSPORT', 17], ...extra]);
    const relayed = response.get('XOR-RELAYED-ADDRESS');
    if (!relayed) throw new Error(`Allocate failed: ${response.get('ERROR-CODE')?.code}`);
    return relayed;
  }

  createPermission(...peers: TransportAddress[]): Promise<StunMessage> {
    return this.authRequest(Method.CreatePermission, peers.map((p): Attr => ['XOR-PEER-ADDRESS', p]));
  }

  channelBind(channel: number, peer: TransportAddress): Promise<StunMessage> {
    return this.authRequest(Method.ChannelBind, [['CHANNEL-NUMBER', channel], ['XOR-PEER-ADDRESS', peer]]);
  }

  refresh(lifetime: number): Promise<StunMessage> {
    return this.authRequest(Method.Refresh, [['LIFETIME', lifetime]]);
  }

  /** Send indication (RFC 8656 §11.1). */
  send(peer: TransportAddress, data: Buffer): void {
    this.write(new StunMessage(Method.Send, MessageClass.Indication).add('XOR-PEER-ADDRESS', peer).add('DATA', data).encode());
  }

  sendChannel(channel: number, data: Buffer): void {
    this.write(encodeChannelData(channel, data, this.transport !== 'udp'));
  }

  /** Wait for the next relayed message from a peer. */
  async nextData(timeoutMs = 2000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no relayed data arrived');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.receivedWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received.shift() as Received;
  }

  private onPacket(packet: Buffer): void {
    if (looksLikeChannelData(packet)) {
      const cd = decodeChannelData(packet);
      if (cd) this.pushReceived({ channel: cd.channel, data: Buffer.from(cd.data) });
      return;
    }
    let message: StunMessage;
    try {
      message = decodeStunMessage(packet);
    } catch {
      return;
    }
    if (message.cls === MessageClass.Indication && message.method === Method.Data) {
      const data = message.get('DATA');
      const peer = message.get('XOR-PEER-ADDRESS');
      if (data && peer) this.pushReceived({ peer, data: Buffer.from(data) });
      return;
    }
    this.waiting.get(message.transactionId.toString('hex'))?.(message);
    this.waiting.delete(message.transactionId.toString('hex'));
  }

  private pushReceived(r: Received): void {
    this.received.push(r);
    this.receivedWaiters.splice(0).forEach((w) => w());
  }
}

/** A UDP peer on 127.0.0.1 that records what it receives and can answer. */
export async function udpPeer(): Promise<{ socket: UdpSocket; address: TransportAddress; next(timeoutMs?: number): Promise<{ data: Buffer; from: TransportAddress }>; close(): void }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const queue: { data: Buffer; from: TransportAddress }[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (data, rinfo) => {
    queue.push({ data, from: { family: 4, address: rinfo.address, port: rinfo.port } });
    waiters.splice(0).forEach((w) => w());
  });
  return {
    socket,
    address: { family: 4, address: '127.0.0.1', port: socket.address().port },
    async next(timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      while (queue.length === 0) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('peer received nothing');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return queue.shift() as { data: Buffer; from: TransportAddress };
    },
    close: () => socket.close(),
  };
}
