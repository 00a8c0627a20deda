/**
 * One session with the hub, kept alive across drops: the transport ladder (ws → sse →
 * poll, falling to the next rung when one fails, probing upward later), reconnection with
 * exponential backoff and jitter, and the protocol's delivery rules — integer frame ids
 * retained until the hub reports `lastId`, `seq` deduplication, cumulative acks, resume.
 * Result: frames are neither lost, duplicated nor reordered across drops and transport
 * changes (docs/protocol/hub.md §4).
 */
import type { ClientFrame, HelloFrame, ServerFrame, WelcomeFrame } from '@pinhole/protocol';
import { Emitter } from '../emitter.js';
import { FATAL_CODES, LinkError, TRANSPORTS, type Link, type LinkContext, type OpenLink, type TransportName } from './link.js';
import { openWsLink } from './link-ws.js';
import { openPollLink, openSseLink } from './link-http.js';
import type { Platform } from './platform.js';
import { Backoff, type ReconnectOptions } from './backoff.js';
import { SignalingError } from './errors.js';
import {
  ACK_DELAY_MS,
  ACK_EVERY_FRAMES,
  BYE_GRACE_HTTP_MS,
  BYE_GRACE_WS_MS,
  DEFAULT_MAX_RETAINED,
  DEFAULT_OPEN_TIMEOUT_MS,
  DEFAULT_PROBE_INTERVAL_MS,
  LIVENESS_SLACK_MS,
  MIN_PING_INTERVAL_MS,
  PING_RETAINED_FRAMES,
  WATCHDOG_INTERVAL_MS,
} from '../defaults.js';

const OPENERS: Record<TransportName, OpenLink> = { ws: openWsLink, sse: openSseLink, poll: openPollLink };

export type TokenSource = string | (() => string | Promise<string>);
/**
 * Where the hub is: one URL (one node, or a load balancer in front of several), or the
 * URLs of several nodes sharing a Redis. Any node can resume the session, so after a
 * drop the connection tries the next URL first.
 */
export type HubUrls = string | readonly string[];
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';
type Outgoing = ClientFrame & { id: number };

export interface HubConnectionOptions {
  platform: Platform;
  /** A JWT, or a function returning a fresh one (called at every hello). */
  token?: TokenSource;
  /** The ladder, best first. Default ['ws', 'sse', 'poll']. */
  transports?: TransportName[];
  /** Time allowed for one rung to open (hello → welcome, first stream bytes). Default DEFAULT_OPEN_TIMEOUT_MS. */
  openTimeoutMs?: number;
  /** Backoff between reconnect attempts (default DEFAULT_RECONNECT); `false` = never reconnect. */
  reconnect?: Partial<ReconnectOptions> | false;
  /** While on a lower rung, try the better ones this often. Default DEFAULT_PROBE_INTERVAL_MS; 0 = never. */
  probeIntervalMs?: number;
  /** Frames kept for resending while disconnected before `send` throws. Default DEFAULT_MAX_RETAINED. */
  maxRetained?: number;
}

export interface HubConnectionEvents {
  [event: string]: unknown;
  /** Every hub frame after welcome, deduplicated and in order (plus loose errors and pongs). */
  frame: ServerFrame;
  state: ConnectionState;
  welcome: WelcomeFrame;
  reconnecting: { attempt: number; delayMs: number; error: Error };
  reconnected: { transport: TransportName; resumed: boolean };
  'transport-changed': { from: TransportName; to: TransportName };
  /** The old session could not be resumed (ended on the hub); a new one was opened. */
  expired: { previous: WelcomeFrame; current: WelcomeFrame };
  /** For good: closed by the user, replaced by another connection, refused, or out of attempts. */
  disconnected: { error?: Error };
}

export class HubConnection extends Emitter<HubConnectionEvents> {
  readonly transports: TransportName[];
  state: ConnectionState = 'connecting';
  welcome: WelcomeFrame | undefined;
  lastSeq = 0;
  /** The hub URLs, tried in turn; `base` is the current one. */
  readonly urls: readonly string[];
  #url = 0;
  #rung = 0;
  #link: Link | undefined;
  #retired = new WeakSet<Link>();
  #acked = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #nextId = 1;
  #retained: Outgoing[] = [];
  #lastAlive = 0;
  #lastPing = 0;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #prober: ReturnType<typeof setInterval> | undefined;
  #busy: Promise<unknown> = Promise.resolve();
  #backoff: Backoff | undefined;
  readonly #openTimeoutMs: number;
  readonly #maxRetained: number;

  constructor(
    urls: HubUrls,
    readonly options: HubConnectionOptions,
  ) {
    super();
    this.urls = typeof urls === 'string' ? [urls] : [...urls];
    if (this.urls.length === 0) throw new SignalingError('bad-option', 'no hub URL given');
    this.transports = options.transports?.length ? [...options.transports] : [...TRANSPORTS];
    for (const t of this.transports) if (!TRANSPORTS.includes(t)) throw new SignalingError('bad-option', `unknown transport '${t}' (use ws, sse or poll)`);
    this.#openTimeoutMs = options.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
    this.#maxRetained = options.maxRetained ?? DEFAULT_MAX_RETAINED;
    if (options.reconnect !== false) this.#backoff = new Backoff(options.reconnect);
  }

  /** The hub URL in use (the last one tried while reconnecting). */
  get base(): string {
    return this.urls[this.#url]!;
  }

  /** The transport in use (the last one used while reconnecting). */
  get transport(): TransportName {
    return this.#link?.transport ?? this.transports[this.#rung]!;
  }

  /** Opens the session: tries each rung once; rejects with every rung's failure if none works. */
  async open(): Promise<WelcomeFrame> {
    await this.#exclusive(() => this.#sweep());
    this.#startTimers();
    this.#setState('connected');
    return this.welcome!;
  }

  /**
   * Sends a frame (numbered, retained until the hub confirms it, resent after a resume).
   * Throws a SignalingError: `closed`, or `queue-full` past `maxRetained` unconfirmed frames.
   */
  send(frame: ClientFrame): number {
    if (this.state === 'closed') throw new SignalingError('closed', 'the hub connection is closed');
    if (this.#retained.length >= this.#maxRetained) throw new SignalingError('queue-full', `more than ${this.#maxRetained} frames waiting for the hub`);
    const out = { ...frame, id: this.#nextId++ } as Outgoing;
    this.#retained.push(out);
    this.#link?.send([{ ...out, ack: this.lastSeq }]);
    if (this.#retained.length > PING_RETAINED_FRAMES && this.#link?.transport === 'ws') this.#ping();
    return out.id;
  }

  /** Ends the session (`bye`): peers see us leave at once. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const link = this.#link;
    this.#setState('closed');
    this.#stopTimers();
    if (link) {
      link.send([{ type: 'bye' }]);
      // Give the bye its way out (one POST or one message) before closing.
      await new Promise((r) => setTimeout(r, link.transport === 'ws' ? BYE_GRACE_WS_MS : BYE_GRACE_HTTP_MS));
      this.#retire(link);
    }
    this.emit('disconnected', {});
  }

  /** Kills the current link abruptly, as a network failure would (tests, network change). */
  drop(): void {
    const link = this.#link;
    if (link) this.#linkClosed(link, new LinkError('dropped', 'network'));
  }

  // ---------------------------------------------------------------- opening

  /** Serializes ladder work (open, reconnect, probe) so that only one link is ever being set up. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(fn, fn);
    this.#busy = run.catch(() => undefined);
    return run;
  }

  /** At each URL in turn: tries the current rung, then the ones below, then the ones above. */
  async #sweep(): Promise<void> {
    const n = this.transports.length;
    const failures: string[] = [];
    for (let u = 0; u < this.urls.length; u++) {
      const order = [...Array(n).keys()].map((i) => (this.#rung + i) % n);
      for (const rung of order) {
        try {
          await this.#openRung(rung);
          return;
        } catch (err) {
          if (this.#isFatal(err)) throw err;
          failures.push(`${this.urls.length > 1 ? `${this.base} ` : ''}${this.transports[rung]}: ${(err as Error).message}`);
        }
      }
      this.#nextUrl();
    }
    throw new LinkError(`could not reach the hub at ${this.urls.join(', ')} (${failures.join('; ')})`, 'network');
  }

  #nextUrl(): void {
    this.#url = (this.#url + 1) % this.urls.length;
  }

  /** Another rung or attempt cannot help (an expired token can, when we can fetch a fresh one). */
  #isFatal(err: unknown): boolean {
    const code = (err as LinkError).code;
    return !!code && FATAL_CODES.has(code) && !(code === 'token-expired' && typeof this.options.token === 'function');
  }

  async #openRung(rung: number): Promise<void> {
    const transport = this.transports[rung]!;
    let hello = await this.#hello();
    let opened: { link: Link; welcome: WelcomeFrame };
    try {
      opened = await OPENERS[transport](this.#context(), hello);
    } catch (err) {
      if ((err as LinkError).code !== 'session-unknown' || !hello.resume) throw err;
      // The session ended on the hub (grace period over, or a cluster's Redis lost it):
      // start a new one on the same rung. Its stream starts at seq 0, not where the old one was.
      this.lastSeq = this.#acked = 0;
      hello = await this.#hello(false);
      opened = await OPENERS[transport](this.#context(), hello);
    }
    if (this.state === 'closed') {
      this.#retire(opened.link);
      throw new LinkError('closed while connecting', 'closed');
    }
    this.#adopt(rung, opened.link, opened.welcome);
  }

  async #hello(resume = true): Promise<HelloFrame> {
    const hello: HelloFrame = { type: 'hello' };
    const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    if (token) hello.token = token;
    if (resume && this.welcome) hello.resume = { session: this.welcome.session, key: this.welcome.key, lastSeq: this.lastSeq };
    return hello;
  }

  /** Makes a freshly opened link the current one. */
  #adopt(rung: number, link: Link, welcome: WelcomeFrame): void {
    const previous = this.welcome;
    const from = this.#link?.transport ?? (previous ? this.transports[this.#rung] : undefined);
    if (this.#link && this.#link !== link) this.#retire(this.#link);
    this.#link = link;
    this.#rung = rung;
    this.#lastAlive = Date.now();
    this.welcome = welcome;
    if (!welcome.resumed) {
      // A new session: its seq starts where the hub says; old frame ids mean nothing here.
      this.lastSeq = this.#acked = welcome.seq;
      this.#nextId = 1;
      this.#retained = [];
      if (previous) this.emit('expired', { previous, current: welcome });
    }
    this.#confirm(welcome.lastId);
    if (this.#retained.length > 0) link.send(this.#retained.map((f) => ({ ...f, ack: this.lastSeq })));
    this.emit('welcome', welcome);
    if (from && from !== link.transport) this.emit('transport-changed', { from, to: link.transport });
  }

  #context(): LinkContext {
    return {
      base: this.base,
      platform: this.options.platform,
      openTimeoutMs: this.#openTimeoutMs,
      lastSeq: () => this.lastSeq,
      frame: (frame, link) => this.#onFrame(frame, link),
      confirmed: (lastId) => this.#confirm(lastId),
      alive: (link) => {
        if (link === this.#link) this.#lastAlive = Date.now();
      },
      closed: (link, error) => this.#linkClosed(link, error),
    };
  }

  #retire(link: Link): void {
    this.#retired.add(link);
    link.close();
    if (this.#link === link) this.#link = undefined;
  }

  // ---------------------------------------------------------------- receiving

  #onFrame(frame: ServerFrame, link: Link): void {
    if (this.#retired.has(link)) return;
    if (frame.type === 'welcome') return;
    if (frame.type === 'pong') this.#confirm(frame.lastId);
    if ('seq' in frame && typeof frame.seq === 'number') {
      if (frame.seq <= this.lastSeq) return; // a replay we already have
      if (frame.seq !== this.lastSeq + 1) {
        // Never expected from a correct hub; resuming from lastSeq makes it replay the gap.
        this.#linkClosed(link, new LinkError(`sequence gap: expected ${this.lastSeq + 1}, got ${frame.seq}`, 'bad-frame'));
        return;
      }
      this.lastSeq = frame.seq;
      this.#scheduleAck();
    }
    this.emit('frame', frame);
  }

  #confirm(lastId: number): void {
    if (this.#retained.length > 0 && this.#retained[0]!.id <= lastId) this.#retained = this.#retained.filter((f) => f.id > lastId);
  }

  #scheduleAck(): void {
    if (this.lastSeq - this.#acked >= ACK_EVERY_FRAMES) return this.#sendAck();
    this.#ackTimer ??= setTimeout(() => this.#sendAck(), ACK_DELAY_MS);
  }

  #sendAck(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    if (!this.#link || this.lastSeq <= this.#acked) return;
    this.#acked = this.lastSeq;
    this.#link.ack(this.lastSeq);
  }

  #ping(): void {
    const now = Date.now();
    if (now - this.#lastPing < MIN_PING_INTERVAL_MS) return;
    this.#lastPing = now;
    this.#link?.ping();
  }

  // ---------------------------------------------------------------- liveness, reconnect, probing

  #startTimers(): void {
    this.#stopTimers();
    this.#watchdog = setInterval(() => this.#checkAlive(), WATCHDOG_INTERVAL_MS);
    const probe = this.options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    if (probe > 0 && this.transports.length > 1) this.#prober = setInterval(() => void this.#probe(), probe);
    for (const t of [this.#watchdog, this.#prober]) (t as { unref?: () => void } | undefined)?.unref?.();
  }

  #stopTimers(): void {
    clearInterval(this.#watchdog);
    clearInterval(this.#prober);
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
  }

  /** Treats a link as dead after 2 × heartbeat + LIVENESS_SLACK_MS without a sign of life (poll links time out on their own). */
  #checkAlive(): void {
    const link = this.#link;
    if (!link || !this.welcome || link.transport === 'poll') return;
    const heartbeat = this.welcome.heartbeat;
    const idle = Date.now() - this.#lastAlive;
    if (idle > 2 * heartbeat + LIVENESS_SLACK_MS) this.#linkClosed(link, new LinkError(`no sign of life from the hub for ${idle} ms`, 'timeout'));
    else if (idle > heartbeat && link.transport === 'ws') this.#ping();
  }

  #linkClosed(link: Link, error: LinkError): void {
    if (this.#retired.has(link)) return;
    this.#retire(link);
    if (this.state === 'closed') return;
    // `replaced`: another connection owns the session now; taking it back would fight it.
    if (error.code === 'replaced' || !this.#backoff) return this.#fail(error);
    // The node may be gone: with several URLs, the next one is tried first.
    this.#nextUrl();
    void this.#exclusive(() => this.#reconnect(error));
  }

  async #reconnect(error: Error): Promise<void> {
    if (this.#link || this.state === 'closed') return; // a probe already replaced it
    this.#setState('reconnecting');
    const backoff = this.#backoff!;
    backoff.reset();
    let last = error;
    for (;;) {
      const delayMs = backoff.next();
      if (delayMs === undefined) return this.#fail(last);
      this.emit('reconnecting', { attempt: backoff.attempt, delayMs, error: last });
      await new Promise((r) => setTimeout(r, delayMs));
      if ((this.state as ConnectionState) === 'closed') return;
      try {
        await this.#sweep();
        this.#setState('connected');
        this.emit('reconnected', { transport: this.transport, resumed: this.welcome!.resumed });
        return;
      } catch (err) {
        last = err as Error;
        if (this.#isFatal(err)) return this.#fail(last);
      }
    }
  }

  /** While on a lower rung, tries the better ones (with a resume hello; the hub switches over). */
  async #probe(): Promise<void> {
    if (this.#rung === 0 || this.state !== 'connected') return;
    await this.#exclusive(async () => {
      for (let rung = 0; rung < this.#rung && this.state === 'connected' && this.#link; rung++) {
        try {
          await this.#openRung(rung);
          return;
        } catch {
          // stay where we are
        }
      }
    });
  }

  #fail(error: Error): void {
    this.#setState('closed');
    this.#stopTimers();
    if (this.#link) this.#retire(this.#link);
    this.emit('disconnected', { error });
  }

  #setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }
}
