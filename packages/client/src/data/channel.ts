/**
 * A named channel: one logical, message-oriented channel to a peer that outlives the
 * RTCDataChannels under it. Created through `Channels.open` (this side is the initiator
 * and re-creates the RTCDataChannel after every host reset) or handed out by the
 * `Channels` 'channel' event (this side re-binds when the initiator's new RTCDataChannel
 * with the same label arrives).
 *
 * Delivery: while the channel is up, reliable channels are ordered and lossless, and
 * unreliable ones are unordered with no retransmission. While it is down (connection lost,
 * waiting for the rebuilt one), reliable sends are queued and flushed in order on reopen;
 * unreliable sends are dropped. Messages that were already handed to the old
 * RTCDataChannel when its connection died can be lost: only file transfers, which
 * acknowledge what they received, are lossless across a reset.
 */
import { Emitter } from '../emitter.js';
import { DEFAULT_HIGH_WATER_BYTES, DEFAULT_LOW_WATER_BYTES, DEFAULT_MAX_QUEUED_BYTES } from '../defaults.js';
import { DataError } from './errors.js';
import { BYE_FRAME, decodeFrame, encodeMessage, frameBytes } from './framing.js';
import type { ChannelMessage, MessageKind, Sendable } from './framing.js';

export interface ResolvedChannelOptions {
  /** true (default): ordered, retransmitted. false: unordered, maxRetransmits 0. */
  reliable: boolean;
  /** `send` returns false above this many buffered bytes (DEFAULT_HIGH_WATER_BYTES). */
  highWaterBytes: number;
  /** bufferedAmountLowThreshold; `drain()` resolves at or below it (DEFAULT_LOW_WATER_BYTES). */
  lowWaterBytes: number;
  /** Cap on reliable bytes queued while down (DEFAULT_MAX_QUEUED_BYTES); past it `send` throws `queue-full`. */
  maxQueuedBytes: number;
}
export type ChannelOptions = Partial<ResolvedChannelOptions>;

export function resolveChannelOptions(options: ChannelOptions = {}): ResolvedChannelOptions {
  return {
    reliable: options.reliable ?? true,
    highWaterBytes: options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES,
    lowWaterBytes: options.lowWaterBytes ?? DEFAULT_LOW_WATER_BYTES,
    maxQueuedBytes: options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
  };
}

/**
 * RTCDataChannelInit of a named channel. The subprotocol names the reliability too,
 * because not every stack reports the peer's ordered/maxRetransmits on an incoming
 * channel (node-datachannel does not).
 */
export function channelInit(reliable: boolean): RTCDataChannelInit {
  return reliable ? { ordered: true, protocol: RELIABLE_PROTOCOL } : { ordered: false, maxRetransmits: 0, protocol: UNRELIABLE_PROTOCOL };
}
const RELIABLE_PROTOCOL = 'pinhole';
const UNRELIABLE_PROTOCOL = 'pinhole-unreliable';

/** Reliability of a channel the peer created. */
export function isReliable(dc: RTCDataChannel): boolean {
  if (dc.protocol === UNRELIABLE_PROTOCOL) return false;
  if (dc.protocol === RELIABLE_PROTOCOL) return true;
  return dc.ordered && dc.maxRetransmits === null && dc.maxPacketLifeTime === null;
}

/** 'connecting' until first open; 'down' between a lost connection and the next open. */
export type ChannelState = 'connecting' | 'open' | 'down' | 'closed';

export type ChannelEvents = {
  /** The channel (re)opened; queued reliable messages have just been flushed. */
  open: { reopened: boolean };
  message: ChannelMessage;
  /** The underlying RTCDataChannel died without the peer closing; waiting for a new one. */
  down: undefined;
  /** Final. `remote`: the peer closed it. */
  close: { remote: boolean };
  /** A bad frame arrived (dropped) or the RTCDataChannel reported an error; the channel goes on. */
  error: DataError;
};

export class NamedChannel extends Emitter<ChannelEvents> {
  readonly name: string;
  readonly reliable: boolean;
  /** true when this side opened the channel (and re-creates it after resets). */
  readonly initiator: boolean;
  readonly #options: ResolvedChannelOptions;
  readonly #onClosed: (channel: NamedChannel) => void;
  readonly #limit: () => number;
  #state: ChannelState = 'connecting';
  #opened = false;
  /** RTCDataChannel this side created (initiator) and the one the peer created. */
  #own: RTCDataChannel | undefined;
  #remote: RTCDataChannel | undefined;
  #queue: (string | Uint8Array)[] = [];
  #queuedBytes = 0;
  #drainWaiters: { resolve: () => void; reject: (e: DataError) => void }[] = [];

  /**
   * @internal Use `Channels.open` or the `Channels` 'channel' event. `limit` gives the
   * largest message the connection can send now (messageLimit of the host).
   */
  constructor(name: string, initiator: boolean, options: ResolvedChannelOptions, onClosed: (channel: NamedChannel) => void, limit: () => number) {
    super();
    this.#limit = limit;
    this.name = name;
    this.initiator = initiator;
    this.reliable = options.reliable;
    this.#options = options;
    this.#onClosed = onClosed;
  }

  get state(): ChannelState {
    return this.#state;
  }

  /** Bytes buffered in the RTCDataChannel plus bytes queued while down. */
  get bufferedAmount(): number {
    return (this.#tx()?.bufferedAmount ?? 0) + this.#queuedBytes;
  }

  /**
   * Sends a JSON value, a string or bytes; the peer's 'message' event has the same kind
   * (bytes arrive as Uint8Array). Pass `kind: 'json'` to send a string as a JSON value.
   * Returns false when the caller should slow down: more than highWaterBytes are buffered,
   * or (unreliable channels) the message was dropped because the channel is not open.
   * Throws DataError `closed`, `message-too-large` (over the peer's a=max-message-size or
   * MAX_MESSAGE_BYTES), `bad-value` or `queue-full`.
   */
  send(data: Sendable, kind?: MessageKind): boolean {
    if (this.#state === 'closed') throw new DataError('closed', `channel '${this.name}' is closed`);
    const frame = encodeMessage(data, kind, this.#limit());
    const tx = this.#tx();
    if (this.#state === 'open' && tx && this.#queue.length === 0) {
      try {
        tx.send(frame as string & Uint8Array<ArrayBuffer>);
        return tx.bufferedAmount < this.#options.highWaterBytes;
      } catch (err) {
        if (tx.readyState === 'open') throw new DataError('bad-message', `send failed: ${(err as Error).message}`, { cause: err });
        this.#lost(tx); // died under us: fall through to queueing
      }
    }
    if (!this.reliable) return false;
    const bytes = frameBytes(frame);
    if (this.#queuedBytes + bytes > this.#options.maxQueuedBytes) {
      throw new DataError('queue-full', `channel '${this.name}' is ${this.#state}; ${this.#queuedBytes} bytes already queued (maxQueuedBytes)`);
    }
    // The caller may reuse its buffer once send returns; RTCDataChannel.send copies, so must we.
    this.#queue.push(typeof frame === 'string' ? frame : frame.slice());
    this.#queuedBytes += bytes;
    return this.#queuedBytes < this.#options.highWaterBytes;
  }

  /** Resolves once the channel is open, nothing is queued and at most lowWaterBytes are buffered. */
  drain(): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(new DataError('closed', `channel '${this.name}' is closed`));
    if (this.#drained()) return Promise.resolve();
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  /** `send`, then wait for `drain()` when the buffer is past highWaterBytes. */
  async write(data: Sendable, kind?: MessageKind): Promise<void> {
    if (!this.send(data, kind)) await this.drain();
  }

  /** Closes the channel on both sides (the peer gets 'close' with remote: true). */
  close(): void {
    if (this.#state === 'closed') return;
    for (const dc of [this.#own, this.#remote]) {
      if (dc?.readyState !== 'open') continue;
      try {
        dc.send(BYE_FRAME);
      } catch {
        // already dying: the peer sees a lost connection instead, and re-binds to nothing
      }
    }
    this.#finish(false);
  }

  /** @internal Binds an RTCDataChannel: the one this side created, or the peer's. */
  bind(dc: RTCDataChannel, own: boolean): void {
    if (this.#state === 'closed') {
      dc.close();
      return;
    }
    const previous = own ? this.#own : this.#remote;
    if (own) this.#own = dc;
    else this.#remote = dc;
    if (previous && previous !== dc) previous.close();
    dc.binaryType = 'arraybuffer';
    dc.bufferedAmountLowThreshold = this.#options.lowWaterBytes;
    const current = () => dc === this.#own || dc === this.#remote;
    dc.addEventListener('open', () => {
      if (current()) this.#up();
    });
    dc.addEventListener('close', () => {
      if (current()) this.#lost(dc);
    });
    dc.addEventListener('error', (event) => {
      if (!current()) return;
      const cause = (event as RTCErrorEvent).error;
      this.emit('error', new DataError('bad-message', `data channel error: ${cause?.message ?? 'unknown'}`, { cause }));
    });
    dc.addEventListener('bufferedamountlow', () => {
      if (current()) this.#checkDrain();
    });
    dc.addEventListener('message', (event) => {
      if (current()) this.#receive((event as MessageEvent).data);
    });
    // Some stacks hand out channels already open; report it after the caller of
    // open() has had the chance to subscribe.
    if (dc.readyState === 'open') queueMicrotask(() => current() && this.#up());
  }

  /**
   * @internal The host's connection was rebuilt. Every RTCDataChannel bound before it is
   * dead (even if its close event has not arrived yet), except one the peer created that
   * arrived since the previous reset: it may already belong to the new connection.
   */
  reset(keepRemote: boolean): void {
    if (this.#state === 'closed') return;
    const dead = [this.#own, keepRemote ? undefined : this.#remote];
    this.#own = undefined;
    if (!keepRemote) this.#remote = undefined;
    for (const dc of dead) dc?.close();
    if (!this.#tx() && this.#state === 'open') {
      this.#state = 'down';
      this.emit('down', undefined);
    }
  }

  #tx(): RTCDataChannel | undefined {
    if (this.#own?.readyState === 'open') return this.#own;
    if (this.#remote?.readyState === 'open') return this.#remote;
    return this.#own ?? this.#remote;
  }

  #up(): void {
    const tx = this.#tx();
    if (this.#state === 'closed' || !tx || tx.readyState !== 'open') return;
    const reopened = this.#opened;
    const wasOpen = this.#state === 'open';
    this.#opened = true;
    this.#state = 'open';
    while (this.#queue.length > 0) {
      const frame = this.#queue[0]!;
      try {
        tx.send(frame as string & Uint8Array<ArrayBuffer>);
      } catch {
        this.#lost(tx); // keep the rest queued for the next open
        return;
      }
      this.#queue.shift();
      this.#queuedBytes -= frameBytes(frame);
    }
    if (!wasOpen) this.emit('open', { reopened });
    this.#checkDrain();
  }

  #lost(dc: RTCDataChannel): void {
    if (dc === this.#own) this.#own = undefined;
    if (dc === this.#remote) this.#remote = undefined;
    if (this.#state !== 'open') return;
    const tx = this.#tx();
    if (tx?.readyState === 'open') return; // the other direction's channel still works
    this.#state = 'down';
    this.emit('down', undefined);
  }

  #receive(data: unknown): void {
    let frame;
    try {
      frame = decodeFrame(data);
    } catch (err) {
      this.emit('error', err as DataError);
      return;
    }
    if (frame.kind === 'bye') this.#finish(true);
    else this.emit('message', frame);
  }

  #drained(): boolean {
    const tx = this.#tx();
    return this.#state === 'open' && this.#queue.length === 0 && !!tx && tx.bufferedAmount <= this.#options.lowWaterBytes;
  }

  #checkDrain(): void {
    if (this.#drainWaiters.length === 0 || !this.#drained()) return;
    for (const waiter of this.#drainWaiters.splice(0)) waiter.resolve();
  }

  #finish(remote: boolean): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    const err = new DataError('closed', `channel '${this.name}' closed`);
    for (const waiter of this.#drainWaiters.splice(0)) waiter.reject(err);
    this.#queue = [];
    this.#queuedBytes = 0;
    for (const dc of [this.#own, this.#remote]) dc?.close();
    this.#own = this.#remote = undefined;
    this.#onClosed(this);
    this.emit('close', { remote });
    this.removeAllListeners();
  }
}
