/**
 * What outgoing and incoming transfers share: the binding to the current RTCDataChannel
 * (replaced after every host reset), decoding control messages, the resume timer, progress,
 * and how a transfer ends. A transfer ends once, with 'done', 'cancelled' or 'error'; the
 * side that ends it sends its "last word" (done, cancel, reject or error) and sends it
 * again on any later channel of the same transfer, so a notice lost with a dying connection
 * still arrives.
 */
import { Emitter } from '../emitter.js';
import { CLOSE_GRACE_MS } from '../defaults.js';
import { DataError, toDataError } from './errors.js';
import { ProgressMeter } from './progress.js';
import type { TransferProgress } from './progress.js';
import type { Sha256Factory } from './sha256.js';
import { isFinal, parseControl } from './transfer-wire.js';
import type { ControlMessage, FinalMessage } from './transfer-wire.js';

export interface ResolvedFileOptions {
  /** Bytes per binary message (DEFAULT_CHUNK_BYTES). */
  chunkBytes: number;
  /** Bytes per source read (DEFAULT_READ_BYTES). */
  readBytes: number;
  /** Unacknowledged bytes the sender may have out (DEFAULT_WINDOW_BYTES). */
  windowBytes: number;
  /** The receiver acknowledges every this many written bytes (DEFAULT_ACK_BYTES). */
  ackBytes: number;
  /** The sender stops above this many buffered bytes… (DEFAULT_HIGH_WATER_BYTES) */
  highWaterBytes: number;
  /** …and goes on at bufferedAmountLowThreshold = this (DEFAULT_LOW_WATER_BYTES). */
  lowWaterBytes: number;
  /** DEFAULT_RESUME_TIMEOUT_MS */
  resumeTimeoutMs: number;
  /** DEFAULT_PROGRESS_INTERVAL_MS */
  progressIntervalMs: number;
  /** Incoming offers above this size are rejected with reason 'too-large' (DEFAULT_MAX_FILE_BYTES). */
  maxFileBytes: number;
  /** Incremental SHA-256: noble in browsers, node:crypto from the Node entry. */
  sha256: Sha256Factory;
}

/**
 * 'offered': waiting for the receiver's decision. 'active': bytes flowing. 'finishing':
 * all bytes sent/received, digest being confirmed. Then one of the final three.
 */
export type TransferState = 'offered' | 'active' | 'finishing' | 'done' | 'cancelled' | 'failed';

export interface TransferResult {
  bytes: number;
  /** Hex SHA-256 of the whole file, verified by the receiver. */
  sha256: string;
  /** What the receiver's sink returned from close() (e.g. a Blob or a path); undefined on the sender. */
  result?: unknown;
}

export interface TransferCancelled {
  by: 'local' | 'remote';
  reason?: string;
  /** The receiver rejected the offer (rather than cancelling later). */
  rejected: boolean;
}

export type TransferEvents = {
  progress: TransferProgress;
  /** The connection under the transfer died; it resumes on the next one (or fails after resumeTimeoutMs). */
  interrupted: undefined;
  /** Going on from `offset` on a new channel. */
  resumed: { offset: number };
  done: TransferResult;
  cancelled: TransferCancelled;
  error: DataError;
};

export interface TransferInfo {
  id: string;
  name: string;
  size: number;
  type?: string;
  meta?: unknown;
}

export abstract class Transfer extends Emitter<TransferEvents> {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly type: string | undefined;
  readonly meta: unknown;
  protected readonly options: ResolvedFileOptions;
  protected readonly meter: ProgressMeter;
  /** The channel the transfer runs on now; undefined while interrupted. */
  protected dc: RTCDataChannel | undefined;
  #state: TransferState = 'offered';
  #lastWord: FinalMessage | undefined;
  /** The last word may not have reached the peer: send it on the next channel. */
  #lastWordPending = false;
  #outcome: { ok: true; result: TransferResult } | { ok: false; error: DataError } | undefined;
  #resumeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(info: TransferInfo, options: ResolvedFileOptions) {
    super();
    this.id = info.id;
    this.name = info.name;
    this.size = info.size;
    this.type = info.type;
    this.meta = info.meta;
    this.options = options;
    this.meter = new ProgressMeter(info.size, options.progressIntervalMs);
  }

  get state(): TransferState {
    return this.#state;
  }

  get final(): boolean {
    return this.#state === 'done' || this.#state === 'cancelled' || this.#state === 'failed';
  }

  /** @internal Whether a channel is still needed: running, or a last word to deliver. */
  get needsChannel(): boolean {
    return !this.final || this.#lastWordPending;
  }

  /** Resolves on 'done'; rejects with the DataError of 'error', or code `cancelled`/`rejected`. */
  finished(): Promise<TransferResult> {
    return new Promise((resolve, reject) => {
      let offs: (() => void)[] = [];
      const settle = () => {
        for (const off of offs) off();
        const outcome = this.#outcome!;
        if (outcome.ok) resolve(outcome.result);
        else reject(outcome.error);
      };
      if (this.#outcome) return settle();
      offs = [this.on('done', settle), this.on('error', settle), this.on('cancelled', settle)];
    });
  }

  /**
   * Cancels the transfer on both sides. Returns false, and changes nothing, once the transfer
   * has ended or when it is too late for both sides to agree (OutgoingTransfer: every byte sent).
   */
  cancel(reason?: string): boolean {
    return this.abort(reason);
  }

  /** @internal Cancels whatever the state (the host is closing). */
  abort(reason?: string): boolean {
    if (this.final) return false;
    this.end({ t: 'cancel', reason }, { kind: 'cancelled', by: 'local', reason, rejected: false });
    return true;
  }

  /** @internal Binds the transfer to a (new) channel; `first` is a message already read from it. */
  bind(dc: RTCDataChannel, first?: unknown): void {
    const previous = this.dc;
    this.dc = dc;
    if (previous && previous !== dc) previous.close();
    dc.binaryType = 'arraybuffer';
    dc.bufferedAmountLowThreshold = this.options.lowWaterBytes;
    const current = () => dc === this.dc;
    // 'open' may fire after we saw readyState 'open' already: act on it once per channel.
    let opened = false;
    const open = () => {
      if (opened || !current()) return;
      opened = true;
      this.#opened();
    };
    dc.addEventListener('message', (e) => current() && this.#receive((e as MessageEvent).data));
    dc.addEventListener('bufferedamountlow', () => current() && this.wake());
    dc.addEventListener('close', () => current() && this.#lost());
    dc.addEventListener('open', open);
    clearTimeout(this.#resumeTimer);
    if (first !== undefined) this.#receive(first);
    if (dc.readyState === 'open') queueMicrotask(open);
  }

  /** @internal The host's connection was rebuilt: the bound channel is dead unless it arrived since. */
  reset(keep: boolean): void {
    // A last word sent on a channel that died with the connection may not have arrived.
    if (!keep && this.dc && this.#lastWord) this.#lastWordPending = true;
    if (!keep && this.dc) {
      const dead = this.dc;
      this.#lost();
      dead.close();
    }
  }

  /** The current channel's opened (sender: send the offer). */
  protected abstract onOpen(): void;
  protected abstract onControl(msg: ControlMessage): void;
  protected abstract onChunk(bytes: Uint8Array): void;
  /** Wakes whatever waits for buffer space, acks or a new channel. */
  protected abstract wake(): void;
  /** Releases source or sink; `ok` when the transfer completed. */
  protected abstract release(ok: boolean): Promise<void>;

  /** Sends a control message (or one already encoded); false when the channel is not open. */
  protected sendControl(msg: ControlMessage | string): boolean {
    const dc = this.dc;
    if (dc?.readyState !== 'open') return false;
    try {
      dc.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
      return true;
    } catch {
      return false; // closing under us: the close event follows
    }
  }

  protected setState(state: 'active' | 'finishing'): void {
    if (!this.final) this.#state = state;
  }

  protected progress(bytes: number): void {
    const event = this.meter.update(bytes);
    if (event) this.emit('progress', event);
  }

  protected fail(error: DataError, tellPeer = true): void {
    if (this.final) return;
    this.end(tellPeer ? { t: 'error', code: error.code, message: error.message } : undefined, { kind: 'failed', error });
  }

  protected complete(result: TransferResult, lastWord?: FinalMessage): void {
    if (this.final) return;
    this.end(lastWord, { kind: 'done', result });
  }

  /** Ends the transfer. `lastWord` is ours to send; undefined when the peer ended it. */
  protected end(
    lastWord: FinalMessage | undefined,
    outcome: { kind: 'done'; result: TransferResult } | ({ kind: 'cancelled' } & TransferCancelled) | { kind: 'failed'; error: DataError },
  ): void {
    if (this.final) return;
    this.#state = outcome.kind;
    clearTimeout(this.#resumeTimer);
    this.#lastWord = lastWord;
    if (lastWord) this.#sayLastWord();
    else this.#closeChannel(0);
    this.wake();
    const ok = outcome.kind === 'done';
    void this.release(ok).catch(() => {}); // best effort: the outcome is already decided
    if (outcome.kind === 'done') {
      this.#outcome = { ok: true, result: outcome.result };
      this.emit('done', outcome.result);
    } else if (outcome.kind === 'failed') {
      this.#outcome = { ok: false, error: outcome.error };
      this.emit('error', outcome.error);
    } else {
      const { by, reason, rejected } = outcome;
      this.#outcome = { ok: false, error: cancelledError({ by, reason, rejected }) };
      this.emit('cancelled', { by, reason, rejected });
    }
  }

  #sayLastWord(): void {
    this.#lastWordPending = !(this.#lastWord && this.sendControl(this.#lastWord));
    // The peer closes the channel when the last word arrives; close anyway after a grace.
    if (!this.#lastWordPending) this.#closeChannel(CLOSE_GRACE_MS);
  }

  #closeChannel(afterMs: number): void {
    const dc = this.dc;
    if (!dc) return;
    const close = () => {
      if (this.dc === dc) this.dc = undefined;
      dc.close();
    };
    if (afterMs === 0) close();
    else setTimeout(close, afterMs).unref?.();
  }

  #opened(): void {
    if (this.final) {
      if (this.#lastWordPending) this.#sayLastWord();
      return;
    }
    this.onOpen();
  }

  #receive(data: unknown): void {
    if (typeof data !== 'string') {
      if (this.final) return; // chunks still in flight when we ended
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : undefined;
      if (!bytes) return this.fail(new DataError('bad-message', 'frame is neither text nor binary'));
      return this.onChunk(bytes);
    }
    let msg: ControlMessage;
    try {
      msg = parseControl(data);
    } catch (err) {
      if (!this.final) this.fail(toDataError('bad-message', 'bad control message', err));
      return;
    }
    if (!this.final) return this.onControl(msg);
    // Already over: the peer's own final word needs no answer; anything else gets ours.
    if (isFinal(msg)) this.#closeChannel(0);
    else if (this.#lastWord) this.#sayLastWord();
    else this.#closeChannel(0);
  }

  #lost(): void {
    this.dc = undefined;
    if (this.final) return; // a closed channel after the end is the normal goodbye
    this.wake();
    this.emit('interrupted', undefined);
    clearTimeout(this.#resumeTimer);
    this.#resumeTimer = setTimeout(() => {
      this.fail(new DataError('connection-lost', `transfer ${this.id}: no new connection within ${this.options.resumeTimeoutMs} ms`));
    }, this.options.resumeTimeoutMs);
    this.#resumeTimer.unref?.();
  }
}

function cancelledError(c: TransferCancelled): DataError {
  const who = c.by === 'local' ? 'locally' : 'by the peer';
  const what = c.rejected ? 'rejected' : 'cancelled';
  return new DataError(c.rejected ? 'rejected' : 'cancelled', `transfer ${what} ${who}${c.reason ? `: ${c.reason}` : ''}`);
}
