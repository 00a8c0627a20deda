/**
 * The Redis side of a hub node: one connection for commands (every state change is one
 * call of the cluster script), one subscribed to this node's channel. Reconnects by
 * itself (ioredis); after every reconnect it reloads the script first and subscribes again.
 */
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { CLUSTER_SCRIPT, limitArgs, type ScriptLimits } from './script.js';

/** Longest pause between two reconnect attempts to Redis. */
const MAX_RECONNECT_DELAY_MS = 2000;

export type ScriptArg = string | number;

export interface StoreEvents {
  /** A message on this node's channel. */
  message(text: string): void;
  /** The subscription is (again) in place: messages published while it was not may be lost. */
  resubscribed(): void;
}

export class ClusterStore {
  readonly channel: string;
  readonly #cmd: Redis;
  readonly #sub: Redis;
  readonly #script = CLUSTER_SCRIPT;
  readonly #sha = createHash('sha1').update(CLUSTER_SCRIPT).digest('hex');
  /** The prefix and limits, leading every call's arguments (script.ts limitArgs). */
  readonly #limits: string[];
  #closing = false;
  #connectedOnce = false;
  /** The last Redis failure, until both connections are ready again. */
  lastError: string | undefined;

  constructor(
    url: string,
    limits: ScriptLimits,
    node: string,
    private readonly logger: Logger,
    private readonly events: StoreEvents,
  ) {
    this.channel = `${limits.prefix}node:${node}`;
    this.#limits = limitArgs(limits);
    const common: RedisOptions = {
      lazyConnect: true,
      retryStrategy: (times) => (this.#closing ? null : Math.min(times * 100, MAX_RECONNECT_DELAY_MS)),
      // A command that cannot be sent now fails now: callers tell their client to come back
      // (the client keeps its frames), instead of piling up behind an outage.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      autoResubscribe: false,
    };
    // Calls made in one tick leave in one write (ordering is unchanged: one connection, FIFO).
    this.#cmd = new Redis(url, { ...common, enableAutoPipelining: true, connectionName: `pinhole:${node}` });
    this.#sub = new Redis(url, { ...common, enableOfflineQueue: true, connectionName: `pinhole:${node}:sub` });
    for (const [name, conn] of [['commands', this.#cmd], ['subscriber', this.#sub]] as const) {
      conn.on('error', (err: Error) => this.#failed(name, err));
      conn.on('end', () => this.#failed(name, new Error('connection closed')));
    }
    // The first command on a fresh connection, before anything else can be sent on it.
    this.#cmd.on('ready', () => {
      this.#cmd.script('LOAD', this.#script).catch((err: Error) => this.#failed('commands', err));
      this.#recovered();
    });
    this.#sub.on('message', (_channel: string, text: string) => this.events.message(text));
    this.#sub.on('ready', () => {
      this.#sub.subscribe(this.channel).then(
        () => {
          this.#recovered();
          if (this.#connectedOnce) this.events.resubscribed();
        },
        (err: Error) => this.#failed('subscriber', err),
      );
    });
  }

  get up(): boolean {
    return this.#cmd.status === 'ready' && this.#sub.status === 'ready';
  }

  get status(): string {
    return this.up ? 'ready' : `commands ${this.#cmd.status}, subscriber ${this.#sub.status}`;
  }

  /** Connects both connections; rejects (and stops retrying) if Redis cannot be reached. */
  async connect(): Promise<void> {
    try {
      await Promise.all([this.#cmd.connect(), this.#sub.connect()]);
      await this.#sub.subscribe(this.channel);
      this.#connectedOnce = true;
      this.lastError = undefined;
    } catch (err) {
      await this.close();
      throw new Error(`cannot reach Redis: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Runs one operation of the cluster script. */
  async run(op: string, ...args: ScriptArg[]): Promise<unknown> {
    try {
      return await this.#cmd.evalsha(this.#sha, 0, ...this.#limits, op, ...args);
    } catch (err) {
      // Scripts flushed under us: load again, and fail this call (its caller retries safely;
      // re-sending it here could apply it after calls sent later).
      if ((err as Error).message.startsWith('NOSCRIPT')) void this.#cmd.script('LOAD', this.#script).catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#cmd.disconnect();
    this.#sub.disconnect();
  }

  #failed(name: string, err: Error): void {
    if (this.#closing) return;
    const message = `Redis ${name} connection: ${err.message}`;
    if (this.lastError !== message) this.logger.warn({ err: err.message, connection: name }, 'Redis unavailable; reconnecting');
    this.lastError = message;
  }

  #recovered(): void {
    if (this.up && this.lastError !== undefined) {
      this.logger.info('Redis connection restored');
      this.lastError = undefined;
    }
  }
}
