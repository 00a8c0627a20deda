/**
 * An MQTT 5 broker as a Signaler (docs/protocol/rendezvous.md §14.1): Node over TCP/TLS (`mqtt://`,
 * `mqtts://`), browsers over WebSocket (`ws://`, `wss://`). mqtt.js is injected (`connect`)
 * so the browser bundle does not carry it unless the application does; the Node entry's
 * `connectMqtt()` passes it.
 *
 * Presence is a retained message per member with a message-expiry interval, refreshed by
 * every member every third of it; a member whose presence is not refreshed in time is
 * gone (`timeout`). A member that vanishes without leaving is announced at once by its
 * last will (`vanished`), which is retained for one presence lifetime so late joiners
 * drop its stale presence too.
 */
import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt';
import type { PeerInfo, PeerMeta } from '@pinhole/protocol';
import { BrokerSignaler } from './broker-signaler.js';
import { decodeRoom, encodeMessage, encodeRoom, randomPeerId, type BrokerMessage, type DataMessage } from './broker-wire.js';
import { SignalingError, withTimeout } from './errors.js';
import {
  DEFAULT_BROKER_CONNECT_TIMEOUT_MS,
  DEFAULT_MQTT_KEEPALIVE_S,
  DEFAULT_MQTT_PREFIX,
  DEFAULT_PRESENCE_TTL_MS,
  MQTT_RECONNECT_PERIOD_MS,
  PRESENCE_GRACE_MS,
} from '../defaults.js';

export type MqttConnect = (url: string, options: IClientOptions) => MqttClient;

export interface MqttSignalerOptions {
  /** `mqtt://host:1883`, `mqtts://host:8883`, `ws://host:8080/mqtt`, `wss://…`. */
  url: string;
  /** mqtt.js's `connect` (`import mqtt from 'mqtt'; … connect: mqtt.connect`). */
  connect: MqttConnect;
  /** Topic prefix; default DEFAULT_MQTT_PREFIX. Peers must use the same one. */
  prefix?: string;
  /** Our peer id; default random (randomPeerId). */
  peerId?: string;
  /** Default DEFAULT_PRESENCE_TTL_MS. */
  presenceTtlMs?: number;
  /** Connecting and each join's round trip; default DEFAULT_BROKER_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /** Default DEFAULT_MQTT_KEEPALIVE_S. */
  keepaliveSeconds?: number;
  /** More mqtt.js options: `username`, `password`, TLS (`ca`, `rejectUnauthorized`), `wsOptions`… */
  clientOptions?: IClientOptions;
}

const QOS = 1;

export class MqttSignaler extends BrokerSignaler {
  readonly kind = 'mqtt';
  readonly #options: MqttSignalerOptions;
  readonly #prefix: string;
  readonly #ttlMs: number;
  #client: MqttClient | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  readonly #syncs = new Map<string, () => void>();

  constructor(options: MqttSignalerOptions) {
    super(options.peerId);
    this.#options = options;
    this.#prefix = options.prefix ?? DEFAULT_MQTT_PREFIX;
    this.#ttlMs = options.presenceTtlMs ?? DEFAULT_PRESENCE_TTL_MS;
  }

  /** 'mqtt' over TCP, 'mqtts', 'ws' or 'wss': the URL's scheme. */
  get transport(): string {
    return this.#options.url.split(':')[0] ?? 'mqtt';
  }

  /** The mqtt.js client (for tests and diagnostics). */
  get client(): MqttClient | undefined {
    return this.#client;
  }

  /** Connects to the broker; rejects with `connect-failed` or `timeout`. */
  async open(): Promise<this> {
    const o = this.#options;
    const client = o.connect(o.url, {
      protocolVersion: 5,
      clientId: `pinhole-${this.localId}-${randomPeerId()}`,
      clean: true,
      keepalive: o.keepaliveSeconds ?? DEFAULT_MQTT_KEEPALIVE_S,
      reconnectPeriod: MQTT_RECONNECT_PERIOD_MS,
      connectTimeout: o.connectTimeoutMs ?? DEFAULT_BROKER_CONNECT_TIMEOUT_MS,
      will: {
        topic: this.#topic('peer', this.localId, 'will'),
        payload: encodeMessage({ v: 1, peer: this.localId, left: 'vanished' }) as unknown as Buffer,
        qos: QOS,
        retain: true,
        properties: { messageExpiryInterval: this.#ttlSeconds() },
      },
      ...o.clientOptions,
    });
    this.#client = client;
    client.on('message', (topic, payload, packet) => this.#onMessage(topic, payload, packet));
    client.on('offline', () => this.state !== 'closed' && this.setState('reconnecting'));
    let opened = false;
    client.on('connect', () => {
      this.setState('connected');
      // After a reconnect our will may have told everyone we vanished: announce us again.
      if (opened) for (const room of this.rooms.keys()) this.#announce(room);
    });
    const connected = new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', (err) => reject(new SignalingError('connect-failed', `MQTT broker ${o.url}: ${err.message}`, { cause: err })));
    });
    try {
      await withTimeout(connected, o.connectTimeoutMs ?? DEFAULT_BROKER_CONNECT_TIMEOUT_MS, `connecting to the MQTT broker ${o.url}`);
    } catch (err) {
      client.end(true);
      this.setState('closed');
      throw err;
    }
    opened = true;
    client.on('error', (err) => this.fail(new SignalingError('connect-failed', `MQTT broker ${o.url}: ${err.message}`, { cause: err })));
    this.#heartbeat = setInterval(() => {
      for (const room of this.rooms.keys()) this.#announce(room);
    }, this.#ttlMs / 3);
    this.#heartbeat.unref?.();
    return this;
  }

  async join(room: string, meta: PeerMeta = {}): Promise<PeerInfo[]> {
    const client = this.#connected();
    const enc = encodeRoom(room);
    this.startJoin(room, meta);
    try {
      await client.subscribeAsync(
        {
          [this.#topic('room', enc, 'presence', '+')]: { qos: QOS },
          [this.#topic('room', enc, 'signal', this.localId)]: { qos: QOS },
          // No Local: our own broadcasts are not echoed back (MQTT 5 §3.8.3.1).
          [this.#topic('room', enc, 'broadcast')]: { qos: QOS, nl: true },
        },
        { qos: QOS },
      );
      this.#announce(room);
      // Retained presences are sent right after the subscription: once our own marker
      // comes back through the same connection, they have all arrived.
      await withTimeout(this.#sync(room), this.#options.connectTimeoutMs ?? DEFAULT_BROKER_CONNECT_TIMEOUT_MS, `joining '${room}' on ${this.#options.url}`);
    } catch (err) {
      this.dropRoom(room);
      throw err;
    }
    return this.finishJoin(room);
  }

  async leave(room: string): Promise<void> {
    if (!this.rooms.has(room)) return;
    const enc = encodeRoom(room);
    const members = [...(this.rooms.get(room)?.members.keys() ?? [])];
    this.dropRoom(room);
    const client = this.#client;
    if (!client?.connected) return;
    // An empty retained message deletes our presence; subscribers see it as our leave.
    await client.publishAsync(this.#topic('room', enc, 'presence', this.localId), '', { qos: QOS, retain: true });
    const stillKnown = new Set([...this.rooms.values()].flatMap((r) => [...r.members.keys()]));
    await client.unsubscribeAsync([
      this.#topic('room', enc, 'presence', '+'),
      this.#topic('room', enc, 'signal', this.localId),
      this.#topic('room', enc, 'broadcast'),
      ...members.filter((p) => !stillKnown.has(p)).map((p) => this.#topic('peer', p, 'will')),
    ]);
  }

  protected publishData(room: string, to: string | undefined, message: DataMessage): void {
    this.#publish(this.#topic('room', encodeRoom(room), ...(to === undefined ? ['broadcast'] : ['signal', to])), message);
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    clearInterval(this.#heartbeat);
    for (const room of [...this.rooms.keys()]) await this.leave(room).catch(() => undefined);
    for (const release of this.#syncs.values()) release();
    this.setState('closed');
    await this.#client?.endAsync().catch(() => undefined);
  }

  #ttlSeconds(): number {
    return Math.max(1, Math.ceil(this.#ttlMs / 1000));
  }

  #topic(...levels: string[]): string {
    return [this.#prefix, ...levels].join('/');
  }

  #connected(): MqttClient {
    if (this.state === 'closed') throw new SignalingError('closed', 'the signaler was closed');
    if (!this.#client) throw new SignalingError('unsupported', 'open() the MqttSignaler first');
    return this.#client;
  }

  /** Publishes (queued by mqtt.js while offline); failures become `error` events. */
  #publish(topic: string, message: BrokerMessage, retain = false): void {
    let payload: string;
    try {
      payload = encodeMessage(message);
    } catch (err) {
      this.fail(err);
      return;
    }
    const properties = retain ? { messageExpiryInterval: this.#ttlSeconds() } : undefined;
    this.#client?.publish(topic, payload, { qos: QOS, retain, ...(properties ? { properties } : {}) }, (err) => {
      if (err && this.state !== 'closed') this.fail(new SignalingError('connect-failed', `publishing to ${topic}: ${err.message}`, { cause: err }));
    });
  }

  #announce(room: string): void {
    const r = this.rooms.get(room);
    if (r) this.#publish(this.#topic('room', encodeRoom(room), 'presence', this.localId), { v: 1, peer: this.localId, meta: r.meta }, true);
  }

  #sync(room: string): Promise<void> {
    const token = randomPeerId();
    const arrived = new Promise<void>((resolve) => this.#syncs.set(token, resolve));
    this.#publish(this.#topic('room', encodeRoom(room), 'signal', this.localId), { v: 1, from: this.localId, sync: token });
    return arrived.finally(() => this.#syncs.delete(token));
  }

  #onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (this.state === 'closed' || !topic.startsWith(`${this.#prefix}/`)) return;
    const levels = topic.slice(this.#prefix.length + 1).split('/');
    if (levels[0] === 'peer' && levels[2] === 'will' && levels[1]) {
      if (payload.byteLength === 0) return; // the broker cleared an old will
      const m = this.decode(payload, topic);
      if (m && 'left' in m && m.peer === levels[1]) this.gone(undefined, m.peer, m.left);
      else if (m) this.fail(new SignalingError('bad-payload', `${topic}: not a will message for ${levels[1]}`));
      return;
    }
    const room = levels[0] === 'room' && levels[1] !== undefined ? decodeRoom(levels[1]) : undefined;
    if (room === undefined || !this.rooms.has(room)) return;
    const kind = levels[2];
    if (kind === 'presence' && levels[3]) {
      this.#onPresence(room, levels[3], payload, packet, topic);
    } else if (kind === 'signal' || kind === 'broadcast') {
      const m = this.decode(payload, topic);
      if (!m) return;
      if ('sync' in m) {
        if (m.from === this.localId) this.#syncs.get(m.sync)?.();
      } else if ('n' in m) {
        this.deliver(room, kind, m);
      } else {
        this.fail(new SignalingError('bad-payload', `${topic}: not a signal or broadcast message`));
      }
    }
  }

  #onPresence(room: string, peer: string, payload: Buffer, packet: IPublishPacket, topic: string): void {
    if (peer === this.localId) return;
    if (payload.byteLength === 0) {
      this.gone(room, peer, 'leave');
      return;
    }
    const m = this.decode(payload, topic);
    if (!m) return;
    if (!('meta' in m) || m.peer !== peer) {
      this.fail(new SignalingError('bad-payload', `${topic}: not a presence of ${peer}`));
      return;
    }
    const wasKnown = this.rooms.get(room)?.members.has(peer) ?? false;
    // The broker tells how long the retained presence has left (MQTT 5 §3.3.2.3.3); a live
    // member refreshes it before then.
    const remaining = packet.properties?.messageExpiryInterval;
    this.present(room, peer, m.meta, (remaining ?? this.#ttlSeconds()) * 1000 + PRESENCE_GRACE_MS);
    if (!wasKnown) this.#client?.subscribe(this.#topic('peer', peer, 'will'), { qos: QOS });
  }
}
