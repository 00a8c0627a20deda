/**
 * File transfers with one ChannelHost (one remote peer). One `FileTransfers` per host: it
 * claims every RTCDataChannel labelled `pinhole-file:<id>`, hands incoming offers out as
 * 'offer' events, and after each host reset re-creates the channel of every transfer this
 * side sends (the receiver re-binds by id), so transfers resume instead of restarting.
 *
 *   const files = new FileTransfers(host);
 *   const t = files.send(file);                       // Blob/File, or a FileSource
 *   t.on('progress', ({ bytes, total, rate, eta }) => …);
 *   await t.finished();
 *
 *   files.on('offer', (t) => t.accept(blobSink()));   // or t.reject('no thanks')
 */
import { Emitter } from '../emitter.js';
import { claimHost } from './claim.js';
import {
  DEFAULT_ACK_BYTES,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_HIGH_WATER_BYTES,
  DEFAULT_LOW_WATER_BYTES,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_PROGRESS_INTERVAL_MS,
  DEFAULT_READ_BYTES,
  DEFAULT_RESUME_TIMEOUT_MS,
  DEFAULT_WINDOW_BYTES,
  FILE_LABEL_PREFIX,
  FINISHED_IDS_KEPT,
  MAX_MESSAGE_BYTES,
  REFUSAL_CLOSE_DELAY_MS,
} from '../defaults.js';
import { DataError, toDataError } from './errors.js';
import { messageLimit, type ChannelHost } from './host.js';
import { IncomingTransfer } from './incoming.js';
import { blobSource } from './io.js';
import type { FileSource } from './io.js';
import { OutgoingTransfer } from './outgoing.js';
import { nobleSha256 } from './sha256.js';
import type { ResolvedFileOptions, Transfer } from './transfer.js';
import { newTransferId, parseControl, TRANSFER_VERSION } from './transfer-wire.js';

export type FileTransferOptions = Partial<ResolvedFileOptions>;

export function resolveFileOptions(options: FileTransferOptions = {}): ResolvedFileOptions {
  const resolved: ResolvedFileOptions = {
    chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    readBytes: options.readBytes ?? DEFAULT_READ_BYTES,
    windowBytes: options.windowBytes ?? DEFAULT_WINDOW_BYTES,
    ackBytes: options.ackBytes ?? DEFAULT_ACK_BYTES,
    highWaterBytes: options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES,
    lowWaterBytes: options.lowWaterBytes ?? DEFAULT_LOW_WATER_BYTES,
    resumeTimeoutMs: options.resumeTimeoutMs ?? DEFAULT_RESUME_TIMEOUT_MS,
    progressIntervalMs: options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS,
    maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    sha256: options.sha256 ?? nobleSha256,
  };
  if (resolved.chunkBytes < 1 || resolved.chunkBytes > MAX_MESSAGE_BYTES) {
    throw new DataError('bad-value', `chunkBytes must be 1…${MAX_MESSAGE_BYTES} (MAX_MESSAGE_BYTES)`);
  }
  return resolved;
}

export interface SendInfo {
  /** Defaults to the source's (or File's) name. */
  name?: string;
  type?: string;
  /** Any JSON value, delivered with the offer. */
  meta?: unknown;
}

export type FileTransfersEvents = {
  /** The peer offers a file: call accept(sink) or reject(reason). */
  offer: IncomingTransfer;
  /** A channel under the file prefix misbehaved before it became a transfer (bad or oversized offer). */
  error: DataError;
};

export class FileTransfers extends Emitter<FileTransfersEvents> {
  readonly #host: ChannelHost;
  readonly #options: ResolvedFileOptions;
  readonly #transfers = new Map<string, OutgoingTransfer | IncomingTransfer>();
  #arrived = new Set<Transfer>();
  readonly #release: () => void;
  readonly #unsubscribe: (() => void)[];
  #closed = false;

  constructor(host: ChannelHost, options: FileTransferOptions = {}) {
    super();
    this.#options = resolveFileOptions(options);
    this.#release = claimHost(host, 'files');
    this.#host = host;
    this.#unsubscribe = [host.on('datachannel', (dc) => this.#incoming(dc)), host.on('reset', () => this.#reset())];
  }

  /** Offers a file to the peer. A Blob/File is read by slicing; Node paths go through nodeFileSource. */
  send(source: FileSource | Blob, info: SendInfo = {}): OutgoingTransfer {
    if (this.#closed) throw new DataError('closed', 'FileTransfers was closed');
    const src = source instanceof Blob ? blobSource(source) : source;
    const transfer = new OutgoingTransfer(
      { id: newTransferId(), name: info.name ?? src.name, size: src.size, type: info.type ?? src.type, meta: info.meta },
      src,
      this.#options,
      () => messageLimit(this.#host),
    );
    this.#track(transfer);
    this.#create(transfer);
    return transfer;
  }

  get(id: string): OutgoingTransfer | IncomingTransfer | undefined {
    return this.#transfers.get(id);
  }

  /** Cancels every running transfer and stops listening to the host. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#unsubscribe) off();
    for (const t of this.#transfers.values()) t.abort('closed');
    this.#release();
    this.removeAllListeners();
  }

  #track(transfer: OutgoingTransfer | IncomingTransfer): void {
    this.#transfers.set(transfer.id, transfer);
    // Ended transfers stay known (to answer a late channel with their last word), but only the newest few.
    const forget = () => {
      const ended = [...this.#transfers.values()].filter((t) => t.final);
      for (const t of ended.slice(0, Math.max(0, ended.length - FINISHED_IDS_KEPT))) this.#transfers.delete(t.id);
    };
    transfer.once('done', forget);
    transfer.once('error', forget);
    transfer.once('cancelled', forget);
  }

  #create(transfer: OutgoingTransfer): void {
    const state = this.#host.connectionState;
    if (state === 'closed' || state === 'failed') return; // 'reset' brings a new connection
    try {
      transfer.bind(this.#host.createDataChannel(FILE_LABEL_PREFIX + transfer.id, { ordered: true, protocol: 'pinhole-file' }));
    } catch {
      // the connection went away under us; 'reset' will bring a new one
    }
  }

  #incoming(dc: RTCDataChannel): void {
    if (!dc.label.startsWith(FILE_LABEL_PREFIX)) return;
    const id = dc.label.slice(FILE_LABEL_PREFIX.length);
    const known = this.#transfers.get(id);
    if (known) {
      this.#arrived.add(known);
      known.bind(dc);
      return;
    }
    // A new transfer: its first message must be the offer.
    dc.binaryType = 'arraybuffer';
    const onFirst = (event: Event) => {
      dc.removeEventListener('message', onFirst);
      this.#offer(dc, id, (event as MessageEvent).data);
    };
    dc.addEventListener('message', onFirst);
  }

  #offer(dc: RTCDataChannel, id: string, data: unknown): void {
    const refuse = (msg: object, error: DataError) => {
      try {
        dc.send(JSON.stringify(msg));
      } catch {
        // closing anyway
      }
      setTimeout(() => dc.close(), REFUSAL_CLOSE_DELAY_MS).unref?.();
      this.emit('error', error);
    };
    let offer;
    try {
      if (typeof data !== 'string') throw new DataError('bad-message', 'first message of a transfer is not an offer');
      offer = parseControl(data);
      if (offer.t !== 'offer') throw new DataError('bad-message', `first message of a transfer is '${offer.t}', not an offer`);
      if (offer.id !== id) throw new DataError('bad-message', `offer id ${offer.id} does not match channel ${dc.label}`);
      if (offer.v !== TRANSFER_VERSION) throw new DataError('bad-message', `transfer version ${offer.v} is not ${TRANSFER_VERSION}`);
    } catch (err) {
      const error = toDataError('bad-message', 'bad offer', err);
      return refuse({ t: 'error', code: error.code, message: error.message }, error);
    }
    if (offer.size > this.#options.maxFileBytes) {
      const error = new DataError('too-large', `offer of ${offer.size} bytes exceeds maxFileBytes ${this.#options.maxFileBytes}`);
      return refuse({ t: 'reject', reason: 'too-large' }, error);
    }
    const transfer = new IncomingTransfer(
      { id, name: offer.name, size: offer.size, type: offer.type, meta: offer.meta },
      this.#options,
    );
    this.#track(transfer);
    this.#arrived.add(transfer);
    transfer.bind(dc);
    this.emit('offer', transfer);
  }

  #reset(): void {
    const arrived = this.#arrived;
    this.#arrived = new Set();
    for (const t of this.#transfers.values()) {
      t.reset(arrived.has(t));
      if (t instanceof OutgoingTransfer && t.needsChannel) this.#create(t);
    }
  }
}
