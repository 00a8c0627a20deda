/**
 * Redis pub/sub as a Signaler, Node only (docs/protocol/rendezvous.md §14.4). ioredis, two
 * connections: one in subscriber mode, one for commands (a subscribed connection may run
 * nothing else).
 *
 * Redis has no retained messages and no last will, so presence is a key per member with a
 * TTL (what a joiner reads) plus a presence channel (what members already there hear).
 * Every member refreshes both every third of the TTL; a member not heard within the TTL
 * (plus 1 s) is gone (`timeout`), which is how a peer that vanished is noticed.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { PeerInfo, PeerMeta } from '@pinhole/protocol';
import {
  BrokerSignaler,
  DEFAULT_BROKER_CONNECT_TIMEOUT_MS,
  DEFAULT_PRESENCE_TTL_MS,
  DEFAULT_REDIS_PREFIX,
  PRESENCE_GRACE_MS,
  SignalingError,
  decodeRoom,
  encodeMessage,
  encodeRoom,
  withTimeout,
  type BrokerMessage,
  type DataMessage,
} from '@pinhole/client/broker';

export interface RedisSignalerOptions {
  /** `redis://[user:pass@]host:6379[/db]` or `rediss://…` (TLS). */
  url: string;
  /** Key and channel prefix; default DEFAULT_REDIS_PREFIX. Peers must use the same one. */
  prefix?: string;
  /** Our peer id; default random (randomPeerId). */
  peerId?: string;
  /** Default DEFAULT_PRESENCE_TTL_MS. */
  presenceTtlMs?: number;
  /** Connecting and each join's round trip; default DEFAULT_BROKER_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /** More ioredis options (TLS, `password`, `retryStrategy`…). */
  redisOptions?: RedisOptions;
}

/** A glob pattern (SCAN MATCH) that matches `text` literally. */
const globLiteral = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');

export class RedisSignaler extends BrokerSignaler {
  readonly kind = 'redis';
  readonly #options: RedisSignalerOptions;
  readonly #prefix: string;
  readonly #ttlMs: number;
  #pub: Redis | undefined;
  #sub: Redis | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(options: RedisSignalerOptions) {
    super(options.peerId);
    this.#options = options;
    this.#prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    this.#ttlMs = options.presenceTtlMs ?? DEFAULT_PRESENCE_TTL_MS;
  }

  /** 'redis' or 'rediss' (TLS): the URL's scheme. */
  get transport(): string {
    return this.#options.url.split(':')[0] ?? 'redis';
  }

  /** The command connection (for tests and diagnostics). */
  get client(): Redis | undefined {
    return this.#pub;
  }

  /** The subscriber connection (for tests and diagnostics). */
  get subscriber(): Redis | undefined {
    return this.#sub;
  }

  /** Connects both connections; rejects with `connect-failed` or `timeout`. */
  async open(): Promise<this> {
    const o = this.#options;
    const timeoutMs = o.connectTimeoutMs ?? DEFAULT_BROKER_CONNECT_TIMEOUT_MS;
    const make = (): Redis => new Redis(o.url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: null, ...o.redisOptions });
    const pub = (this.#pub = make());
    const sub = (this.#sub = make());
    // Until open() resolves, a failure rejects it; afterwards it is an error event and ioredis retries.
    let cause: Error | undefined; // ioredis rejects connect() with "Connection is closed."; the socket error says why
    const onError = (err: Error): void => {
      cause = err;
      if (this.state === 'connected' || this.state === 'reconnecting') this.fail(new SignalingError('connect-failed', `Redis ${o.url}: ${err.message}`, { cause: err }));
    };
    pub.on('error', onError);
    sub.on('error', onError);
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.#onMessage(channel.toString(), message));
    for (const c of [pub, sub]) {
      c.on('reconnecting', () => this.state !== 'closed' && this.setState('reconnecting'));
      // ioredis resubscribes by itself; our presence may have expired meanwhile: announce again.
      c.on('ready', () => {
        if (this.state !== 'reconnecting' || pub.status !== 'ready' || sub.status !== 'ready') return;
        this.setState('connected');
        for (const room of this.rooms.keys()) void this.#announce(room);
      });
    }
    try {
      await withTimeout(
        Promise.all([pub.connect(), sub.connect()]).catch((err: Error) => {
          throw new SignalingError('connect-failed', `Redis ${o.url}: ${(cause ?? err).message}`, { cause: cause ?? err });
        }),
        timeoutMs,
        `connecting to Redis ${o.url}`,
      );
    } catch (err) {
      pub.disconnect();
      sub.disconnect();
      this.setState('closed');
      throw err;
    }
    this.setState('connected');
    this.#heartbeat = setInterval(() => {
      for (const room of this.rooms.keys()) void this.#announce(room);
    }, this.#ttlMs / 3);
    this.#heartbeat.unref?.();
    return this;
  }

  async join(room: string, meta: PeerMeta = {}): Promise<PeerInfo[]> {
    if (!this.#pub || !this.#sub) throw new SignalingError('unsupported', 'open() the RedisSignaler first');
    const enc = encodeRoom(room);
    this.startJoin(room, meta);
    try {
      await withTimeout(this.#joinSteps(room, enc), this.#options.connectTimeoutMs ?? DEFAULT_BROKER_CONNECT_TIMEOUT_MS, `joining '${room}' on ${this.#options.url}`);
    } catch (err) {
      this.dropRoom(room);
      throw err instanceof SignalingError ? err : new SignalingError('connect-failed', `joining '${room}': ${String(err)}`, { cause: err });
    }
    return this.finishJoin(room);
  }

  async #joinSteps(room: string, enc: string): Promise<void> {
    await this.#sub!.subscribe(this.#name('room', enc, 'presence'), this.#name('room', enc, 'signal', this.localId), this.#name('room', enc, 'broadcast'));
    await this.#announce(room);
    // Members already there: their presence keys. Presences heard meanwhile are merged.
    const keys: string[] = [];
    const match = globLiteral(this.#name('room', enc, 'member', '')) + '*';
    for (let cursor = '0'; ; ) {
      const [next, found] = await this.#pub!.scan(cursor, 'MATCH', match, 'COUNT', 200);
      keys.push(...found);
      if ((cursor = next) === '0') break;
    }
    const pipeline = this.#pub!.pipeline();
    for (const key of keys) pipeline.get(key).pttl(key);
    const replies = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const [value, ttl] = [replies[2 * i]?.[1], replies[2 * i + 1]?.[1]];
      if (typeof value !== 'string' || typeof ttl !== 'number' || ttl < 0) return; // expired between SCAN and GET
      this.#onPresence(room, value, key, ttl + PRESENCE_GRACE_MS);
    });
  }

  async leave(room: string): Promise<void> {
    if (!this.rooms.has(room)) return;
    const enc = encodeRoom(room);
    this.dropRoom(room);
    if (this.#pub?.status !== 'ready' || this.#sub?.status !== 'ready') return;
    await this.#pub.del(this.#name('room', enc, 'member', this.localId));
    await this.#pub.publish(this.#name('room', enc, 'presence'), encodeMessage({ v: 1, peer: this.localId, left: 'leave' }));
    await this.#sub.unsubscribe(this.#name('room', enc, 'presence'), this.#name('room', enc, 'signal', this.localId), this.#name('room', enc, 'broadcast'));
  }

  protected publishData(room: string, to: string | undefined, message: DataMessage): void {
    this.#publish(this.#name('room', encodeRoom(room), ...(to === undefined ? ['broadcast'] : ['signal', to])), message);
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    clearInterval(this.#heartbeat);
    for (const room of [...this.rooms.keys()]) await this.leave(room).catch(() => undefined);
    this.setState('closed');
    await Promise.all([this.#pub, this.#sub].map((c) => c?.quit().catch(() => c.disconnect())));
  }

  #name(...parts: string[]): string {
    return [this.#prefix, ...parts].join(':');
  }

  /** Publishes (ioredis queues commands while reconnecting); failures become `error` events. */
  #publish(channel: string, message: BrokerMessage): void {
    let payload: string;
    try {
      payload = encodeMessage(message);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.#pub?.publish(channel, payload).catch((err: Error) => {
      if (this.state !== 'closed') this.fail(new SignalingError('connect-failed', `publishing to ${channel}: ${err.message}`, { cause: err }));
    });
  }

  /** Sets our presence key (with the TTL) and tells the members already subscribed. */
  async #announce(room: string): Promise<void> {
    const r = this.rooms.get(room);
    if (!r || !this.#pub) return;
    const enc = encodeRoom(room);
    const payload = encodeMessage({ v: 1, peer: this.localId, meta: r.meta });
    try {
      await this.#pub.set(this.#name('room', enc, 'member', this.localId), payload, 'PX', this.#ttlMs);
      await this.#pub.publish(this.#name('room', enc, 'presence'), payload);
    } catch (err) {
      if (this.state !== 'closed') this.fail(new SignalingError('connect-failed', `announcing in '${room}': ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
      if (r.joining) throw err;
    }
  }

  #onMessage(channel: string, payload: Buffer): void {
    if (this.state === 'closed' || !channel.startsWith(`${this.#prefix}:room:`)) return;
    const [encRoom, kind, to] = channel.slice(this.#prefix.length + 6).split(':');
    const room = encRoom === undefined ? undefined : decodeRoom(encRoom);
    if (room === undefined || !this.rooms.has(room)) return;
    if (kind === 'presence') {
      this.#onPresence(room, payload, channel, this.#ttlMs + PRESENCE_GRACE_MS);
    } else if ((kind === 'signal' && to === this.localId) || kind === 'broadcast') {
      const m = this.decode(payload, channel);
      if (m && 'n' in m) this.deliver(room, kind, m);
      else if (m) this.fail(new SignalingError('bad-payload', `${channel}: not a signal or broadcast message`));
    }
  }

  /** A presence (or a leave) from the presence channel or a member key. */
  #onPresence(room: string, payload: Buffer | string, where: string, ttlMs: number): void {
    const m = this.decode(payload, where);
    if (!m) return;
    if ('left' in m) this.gone(room, m.peer, m.left);
    else if ('meta' in m) this.present(room, m.peer, m.meta, ttlMs);
    else this.fail(new SignalingError('bad-payload', `${where}: not a presence or leave message`));
  }
}
