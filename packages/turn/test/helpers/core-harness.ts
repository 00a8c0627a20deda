import { randomBytes } from 'node:crypto';
import {
  type AttributeName,
  type AttributeValue,
  type CoreOptions,
  ErrorCode,
  type FiveTuple,
  MessageClass,
  Method,
  StunMessage,
  type TransportAddress,
  type TurnAction,
  type TurnLogger,
  TurnServerCore,
  decodeStunMessage,
  longTermKey,
  resolveOptions,
  turnCredentials,
} from '../../src/index.js';

export const SECRET = 'core-secret';
export const T0 = 1_700_000_000_000;

export type Attr = { [N in AttributeName]: [N, AttributeValue<N>] }[AttributeName];

/** A sans-IO core on a fake clock, with relay sockets "opened" synchronously. */
export function makeCore(overrides: Partial<CoreOptions> = {}, logger?: TurnLogger) {
  let now = T0;
  const base = resolveOptions({ secret: SECRET, allowPeers: ['127.0.0.0/8'], bandwidthBytesPerSecond: 0, staticUsers: { static: 'static-pass' } });
  const core = new TurnServerCore({ ...base, relayFamily: 4, ...overrides }, { now: () => now, randomBytes, logger });
  let nextRelayPort = 50000;
  return {
    core,
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
    /** Complete every open-relay action the way the socket layer would. */
    openRelays(actions: TurnAction[], reserved = true): TurnAction[] {
      const out: TurnAction[] = [];
      for (const a of actions) {
        if (a.type !== 'open-relay') out.push(a);
        else out.push(...core.relayOpened(a.allocationId, { family: 4, address: '198.51.100.1', port: nextRelayPort++ }, reserved && a.reserveToken !== undefined));
      }
      return out;
    },
  };
}

export type Harness = ReturnType<typeof makeCore>;

let nextClientPort = 30000;
export function tuple(transport: FiveTuple['transport'] = 'udp', clientAddress = '203.0.113.5'): FiveTuple {
  return { transport, clientAddress, clientPort: nextClientPort++, serverAddress: '198.51.100.1', serverPort: 3478 };
}

/** The STUN responses among `actions`. */
export function responses(actions: TurnAction[]): StunMessage[] {
  return actions.filter((a) => a.type === 'send-to-client').map((a) => decodeStunMessage(a.data));
}

export function errorCode(actions: TurnAction[]): number | undefined {
  return responses(actions)[0]?.get('ERROR-CODE')?.code;
}

/** A client of the core: long-term credentials, signs requests once it has a nonce. */
export class CoreClient {
  realm = '';
  nonce = '';
  key: Buffer | undefined;
  integrity: 'sha1' | 'sha256' = 'sha1';
  /** Set to false to see 438 responses instead of retrying them. */
  retryStaleNonce = true;

  constructor(
    readonly h: Harness,
    readonly client: FiveTuple,
    readonly username: string,
    readonly password: string,
  ) {}

  static rest(h: Harness, identity = 'alice', client = tuple()): CoreClient {
    const c = turnCredentials(SECRET, identity, 3600, h.now());
    return new CoreClient(h, client, c.username, c.credential);
  }

  /** Build (and sign, once challenged) a request. */
  build(method: number, attrs: Attr[], extra?: (m: StunMessage) => void): StunMessage {
    const m = new StunMessage(method, MessageClass.Request);
    for (const [name, value] of attrs) m.add(name, value as never);
    if (this.nonce) m.add('USERNAME', this.username).add('REALM', this.realm).add('NONCE', this.nonce);
    extra?.(m);
    return m;
  }

  encode(m: StunMessage): Buffer {
    return m.encode({ ...(this.key && { integrity: { key: this.key, algorithm: this.integrity } }), fingerprint: true });
  }

  raw(data: Buffer): TurnAction[] {
    return this.h.openRelays(this.h.core.handleClientPacket(this.client, data));
  }

  send(m: StunMessage): TurnAction[] {
    return this.raw(this.encode(m));
  }

  /** Learn REALM and NONCE from a 401 (first request without credentials). */
  challenge(): void {
    const [response] = responses(this.send(this.build(Method.Allocate, [['REQUESTED-TRANSPORT', 17]])));
    if (response?.get('ERROR-CODE')?.code !== ErrorCode.Unauthenticated) throw new Error('expected a 401 challenge');
    this.realm = response.get('REALM') ?? '';
    this.nonce = response.get('NONCE') ?? '';
    this.key = longTermKey(this.username, this.realm, this.password);
  }

  /** Send an authenticated request; a 438 updates the nonce and retries once, like a real client. */
  request(method: number, attrs: Attr[] = [], extra?: (m: StunMessage) => void): TurnAction[] {
    if (!this.nonce) this.challenge();
    const actions = this.send(this.build(method, attrs, extra));
    const [response] = responses(actions);
    if (!this.retryStaleNonce || response?.get('ERROR-CODE')?.code !== ErrorCode.StaleNonce) return actions;
    this.nonce = response.get('NONCE') ?? '';
    return this.send(this.build(method, attrs, extra));
  }

  allocate(attrs: Attr[] = []): { actions: TurnAction[]; relayed: TransportAddress | undefined } {
    const actions = this.request(Method.Allocate, [['REQUESTED-TRANSPORT', 17], ...attrs]);
    return { actions, relayed: responses(actions)[0]?.get('XOR-RELAYED-ADDRESS') };
  }
}

export const PEER: TransportAddress = { family: 4, address: '127.0.0.1', port: 9000 };
