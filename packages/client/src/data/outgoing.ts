/**
 * The sending side of a file transfer. On every (new) channel it sends the offer; the
 * receiver's `accept` says where to go on from (0 the first time, its durable offset after
 * a reset). Bytes flow while the channel buffers less than highWaterBytes and less than
 * windowBytes are unacknowledged. The SHA-256 is computed over the bytes as they are first
 * sent (a resume re-sends bytes that are already hashed), and announced in `end`.
 */
import { DataError, toDataError } from './errors.js';
import type { FileSource } from './io.js';
import { ChunkReader } from './reader.js';
import type { Sha256 } from './sha256.js';
import { toHex } from './sha256.js';
import { Transfer } from './transfer.js';
import type { ResolvedFileOptions, TransferInfo } from './transfer.js';
import { encodeOffer, TRANSFER_VERSION } from './transfer-wire.js';
import type { ControlMessage } from './transfer-wire.js';

export class OutgoingTransfer extends Transfer {
  readonly direction = 'outgoing';
  readonly #source: FileSource;
  readonly #reader: ChunkReader;
  readonly #hash: Sha256;
  /** Bytes hashed so far (= the highest offset ever sent). */
  #hashed = 0;
  #digest: string | undefined;
  /** Next byte to send on the current channel, and the receiver's last acknowledgement. */
  #sent = 0;
  #acked = 0;
  #accepted = false;
  #wireBytes = 0;
  #resumes = 0;
  /** Bumped whenever a running pump must stop (new channel, new accept, end). */
  #pumpToken = 0;
  #wakeup: (() => void) | undefined;
  readonly #offer: string;
  readonly #limit: () => number;

  /**
   * @internal Use `FileTransfers.send`. Throws DataError `bad-value` for an offer the
   * receiver would refuse (name over 1024 characters, meta too large or not JSON).
   * `limit` gives the largest message the connection can send now (messageLimit of the
   * host): chunks are cut to it, so a peer announcing a smaller a=max-message-size than
   * `chunkBytes` still gets the file.
   */
  constructor(info: TransferInfo, source: FileSource, options: ResolvedFileOptions, limit: () => number) {
    super(info, options);
    this.#limit = limit;
    this.#offer = encodeOffer({ t: 'offer', v: TRANSFER_VERSION, id: this.id, name: this.name, size: this.size, type: this.type, meta: this.meta, chunk: options.chunkBytes });
    this.#source = source;
    this.#reader = new ChunkReader(source, options.readBytes);
    this.#hash = options.sha256();
  }

  /**
   * Too late once every byte is sent ('finishing'): the receiver may already have verified the
   * file and said done, and a cancel crossing that would leave the two sides disagreeing
   * (done there, cancelled here). The receiver's verdict decides; this returns false.
   */
  override cancel(reason?: string): boolean {
    return this.state === 'finishing' ? false : super.cancel(reason);
  }

  /** Bytes put on the wire, re-sent ones included (≥ size once done). */
  get wireBytes(): number {
    return this.#wireBytes;
  }

  /** How many times the transfer went on from an acknowledged offset on a new channel. */
  get resumes(): number {
    return this.#resumes;
  }

  protected onOpen(): void {
    this.sendControl(this.#offer);
  }

  protected onControl(msg: ControlMessage): void {
    switch (msg.t) {
      case 'accept': {
        // The receiver may go back (unwritten bytes are lost with a channel) but never past what we sent.
        if (msg.offset > this.#hashed) return this.fail(bad(`accept at ${msg.offset} is past the ${this.#hashed} bytes sent`));
        const resumed = this.#accepted;
        this.#accepted = true;
        if (resumed) this.#resumes += 1;
        this.#sent = msg.offset;
        this.#acked = Math.max(this.#acked, msg.offset);
        if (this.state === 'offered') this.setState('active');
        if (resumed) this.emit('resumed', { offset: msg.offset });
        this.progress(this.#acked);
        this.#pumpToken++;
        this.wake(); // a pump still waiting on the old channel sees the new token and stops
        void this.#pump(this.#pumpToken);
        return;
      }
      case 'ack':
        if (!this.#accepted || msg.offset > this.#hashed) return this.fail(bad(`ack of ${msg.offset} is past the ${this.#hashed} bytes sent`));
        if (msg.offset > this.#acked) this.#acked = msg.offset;
        this.progress(this.#acked);
        this.wake();
        return;
      case 'done':
        if (this.state !== 'finishing' || msg.sha256 !== this.#digest) return this.fail(bad(`unexpected done (${this.state})`));
        this.progress(this.size);
        return this.complete({ bytes: this.size, sha256: this.#digest });
      case 'reject':
        return this.end(undefined, { kind: 'cancelled', by: 'remote', reason: msg.reason, rejected: true });
      case 'cancel':
        return this.end(undefined, { kind: 'cancelled', by: 'remote', reason: msg.reason, rejected: false });
      case 'error':
        return this.fail(new DataError('remote-error', `peer failed the transfer: ${msg.code}: ${msg.message}`), false);
      default:
        return this.fail(bad(`'${msg.t}' is not a message a sender receives`));
    }
  }

  protected onChunk(): void {
    this.fail(new DataError('bad-chunk', 'the receiver sent file data'));
  }

  protected wake(): void {
    const wakeup = this.#wakeup;
    this.#wakeup = undefined;
    wakeup?.();
  }

  protected async release(): Promise<void> {
    this.#pumpToken++;
    this.#reader.clear();
    await this.#source.close?.();
  }

  async #pump(token: number): Promise<void> {
    const { highWaterBytes, windowBytes } = this.options;
    const chunkBytes = Math.min(this.options.chunkBytes, this.#limit());
    const live = () => token === this.#pumpToken && !this.final && this.dc?.readyState === 'open';
    try {
      while (this.#sent < this.size) {
        if (!live()) return;
        const dc = this.dc!;
        if (dc.bufferedAmount > highWaterBytes || this.#sent - this.#acked >= windowBytes) {
          await new Promise<void>((resolve) => (this.#wakeup = resolve));
          continue;
        }
        const offset = this.#sent;
        const chunk = await this.#reader.chunk(offset, chunkBytes);
        if (!live() || this.#sent !== offset) return;
        if (chunk.byteLength === 0) throw new Error(`source ended at ${offset} of ${this.size} bytes`);
        // Hash only bytes never sent before: a resume re-sends from an offset ≤ #hashed.
        const end = offset + chunk.byteLength;
        if (end > this.#hashed) {
          this.#hash.update(this.#hashed > offset ? chunk.subarray(this.#hashed - offset) : chunk);
          this.#hashed = end;
        }
        dc.send(chunk as Uint8Array<ArrayBuffer>);
        this.#sent = end;
        this.#wireBytes += chunk.byteLength;
      }
      if (!live()) return;
      this.#digest ??= toHex(this.#hash.digest());
      this.#pumpToken++;
      this.setState('finishing');
      this.sendControl({ t: 'end', size: this.size, sha256: this.#digest });
    } catch (err) {
      if (token === this.#pumpToken) this.fail(toDataError('io', `reading ${this.name}`, err));
    }
  }
}

function bad(message: string): DataError {
  return new DataError('bad-message', message);
}
