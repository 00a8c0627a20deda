/**
 * The receiving side of a file transfer. Bytes are hashed as they arrive (they are
 * contiguous: the channel is ordered and a resume goes on exactly where the sink ends) and
 * written to the sink in batches, one write in flight at a time. The receiver acknowledges
 * every ackBytes of written data, which also opens the sender's window. When a new channel
 * brings the offer again after a reset, the receiver waits for its pending writes and
 * accepts at the written offset, so nothing that reached the sink is sent twice.
 */
import { DataError, toDataError } from './errors.js';
import type { FileSink } from './io.js';
import type { Sha256 } from './sha256.js';
import { toHex } from './sha256.js';
import { Transfer } from './transfer.js';
import type { ResolvedFileOptions, TransferInfo } from './transfer.js';
import type { ControlMessage } from './transfer-wire.js';

export class IncomingTransfer extends Transfer {
  readonly direction = 'incoming';
  #sink: FileSink | undefined;
  #hash: Sha256 | undefined;
  /** Bytes received on the current channel (hashed), written to the sink, and last acknowledged. */
  #received = 0;
  #written = 0;
  #lastAck = 0;
  #queue: Uint8Array[] = [];
  #writing: Promise<void> | undefined;
  #resumes = 0;
  /** While a resume waits for pending writes, chunks are not expected. */
  #resuming = false;

  /** @internal Created by `FileTransfers` when an offer arrives. */
  constructor(info: TransferInfo, options: ResolvedFileOptions) {
    super(info, options);
  }

  get resumes(): number {
    return this.#resumes;
  }

  /** Accepts the offer: bytes go to `sink`; finished() resolves with what `sink.close()` returns. */
  accept(sink: FileSink): void {
    if (this.state !== 'offered') throw new DataError('closed', `transfer ${this.id} is ${this.state}, not offered`);
    this.#sink = sink;
    this.#hash = this.options.sha256();
    this.setState('active');
    // While interrupted, the sender's next offer is answered with this accept instead.
    this.sendControl({ t: 'accept', offset: 0 });
  }

  reject(reason?: string): void {
    if (this.state !== 'offered') throw new DataError('closed', `transfer ${this.id} is ${this.state}, not offered`);
    this.end({ t: 'reject', reason }, { kind: 'cancelled', by: 'local', reason, rejected: true });
  }

  protected onOpen(): void {
    // The sender speaks first (offer).
  }

  protected onControl(msg: ControlMessage): void {
    switch (msg.t) {
      case 'offer':
        if (msg.id !== this.id || msg.size !== this.size) return this.fail(bad('offer on a new channel does not match the transfer'));
        if (this.state === 'active') void this.#resume();
        return; // 'offered': still waiting for accept()/reject()
      case 'end':
        if (this.state !== 'active' || this.#resuming) return this.fail(bad(`unexpected end (${this.state})`));
        if (msg.size !== this.size || this.#received !== this.size) {
          return this.fail(new DataError('bad-chunk', `end after ${this.#received} of ${this.size} bytes`));
        }
        this.setState('finishing');
        void this.#finish(msg.sha256);
        return;
      case 'cancel':
        return this.end(undefined, { kind: 'cancelled', by: 'remote', reason: msg.reason, rejected: false });
      case 'error':
        return this.fail(new DataError('remote-error', `peer failed the transfer: ${msg.code}: ${msg.message}`), false);
      default:
        return this.fail(bad(`'${msg.t}' is not a message a receiver receives`));
    }
  }

  protected onChunk(bytes: Uint8Array): void {
    if (this.state !== 'active' || this.#resuming) return this.fail(new DataError('bad-chunk', `file data while ${this.#resuming ? 'resuming' : this.state}`));
    if (this.#received + bytes.byteLength > this.size) {
      return this.fail(new DataError('bad-chunk', `data past the announced size: ${this.#received + bytes.byteLength} > ${this.size}`));
    }
    this.#hash!.update(bytes);
    this.#received += bytes.byteLength;
    this.#queue.push(bytes);
    this.#writing ??= this.#drainQueue();
  }

  protected wake(): void {
    // The receiver never waits on the channel.
  }

  protected async release(ok: boolean): Promise<void> {
    this.#queue = [];
    if (!ok && this.#sink) await this.#sink.abort();
  }

  /** Writes queued chunks, one batch at a time, acknowledging as the written offset grows. */
  async #drainQueue(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.final) {
        const batch = this.#queue;
        this.#queue = [];
        const bytes = batch.reduce((n, c) => n + c.byteLength, 0);
        await this.#sink!.write(batch, this.#written);
        this.#written += bytes;
        this.progress(this.#written);
        if (this.#written - this.#lastAck >= this.options.ackBytes || this.#written === this.size) {
          if (this.sendControl({ t: 'ack', offset: this.#written })) this.#lastAck = this.#written;
        }
      }
    } catch (err) {
      this.fail(toDataError('io', `writing ${this.name}`, err));
    } finally {
      this.#writing = undefined;
    }
  }

  async #settle(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #resume(): Promise<void> {
    this.#resuming = true;
    const dc = this.dc;
    await this.#settle();
    this.#resuming = false;
    if (this.final || dc !== this.dc) return;
    this.#received = this.#written; // (equal: every received byte was queued and written)
    this.#lastAck = this.#written;
    this.#resumes += 1;
    this.emit('resumed', { offset: this.#written });
    this.sendControl({ t: 'accept', offset: this.#written });
  }

  async #finish(announced: string): Promise<void> {
    await this.#settle();
    if (this.final) return;
    const digest = toHex(this.#hash!.digest());
    if (digest !== announced) {
      return this.fail(new DataError('digest-mismatch', `received bytes hash to ${digest}, the sender announced ${announced}`));
    }
    let result: unknown;
    try {
      result = await this.#sink!.close();
    } catch (err) {
      return this.fail(toDataError('io', `closing ${this.name}`, err));
    }
    if (this.final) return;
    this.progress(this.size);
    this.complete({ bytes: this.size, sha256: digest, result }, { t: 'done', sha256: digest });
  }
}

function bad(message: string): DataError {
  return new DataError('bad-message', message);
}
