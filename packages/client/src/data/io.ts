/**
 * Where a file transfer reads from and writes to. Platform code stays behind these two
 * interfaces: Blob/File here (browsers, and Node ≥ 20 which has Blob), files on disk in
 * node-fs.ts, which only the Node entry imports.
 */
import { DEFAULT_BLOB_FOLD_BYTES } from '../defaults.js';

export interface FileSource {
  readonly name: string;
  readonly size: number;
  /** MIME type, when known. */
  readonly type?: string;
  /** Reads `length` bytes at `offset` (fewer only at the end of the file). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases the source (file handle); called once the transfer is over. */
  close?(): Promise<void>;
}

/**
 * Receives a file. Writes come in order, each starting where the previous ended, except
 * after a resume: then `offset` is where the receiver told the sender to go on from, at
 * or below the end of what was written (a sink must drop anything past it).
 */
export interface FileSink<R = unknown> {
  write(chunks: readonly Uint8Array[], offset: number): Promise<void>;
  /** All bytes arrived and the digest matched; returns the sink's result (e.g. a Blob). */
  close(): Promise<R>;
  /** The transfer was rejected, cancelled or failed. */
  abort(): Promise<void>;
}

/** Reads a Blob or File by slicing it, so it is never loaded whole. */
export function blobSource(blob: Blob, name?: string): FileSource {
  return {
    name: name ?? (blob as Partial<File>).name ?? 'blob',
    size: blob.size,
    type: blob.type || undefined,
    async read(offset, length) {
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

export interface BlobSinkOptions {
  /** MIME type of the resulting Blob. */
  type?: string;
  /** Received chunks are folded into one Blob part every this many bytes (DEFAULT_BLOB_FOLD_BYTES). */
  foldBytes?: number;
}

/**
 * Collects a file into a Blob. Chunks are folded into Blob parts every `foldBytes`, after
 * which the chunk buffers can be collected: besides the Blob itself (which browsers may
 * keep on disk) memory holds at most one fold's worth of chunks.
 */
export function blobSink(options: BlobSinkOptions = {}): FileSink<Blob> {
  const foldBytes = options.foldBytes ?? DEFAULT_BLOB_FOLD_BYTES;
  let parts: Blob[] = [];
  let pending: Uint8Array<ArrayBuffer>[] = [];
  let pendingBytes = 0;
  let size = 0;
  const fold = () => {
    if (pending.length === 0) return;
    parts.push(new Blob(pending));
    pending = [];
    pendingBytes = 0;
  };
  return {
    async write(chunks, offset) {
      if (offset > size) throw new Error(`blob sink: write at ${offset} leaves a gap after ${size}`);
      if (offset < size) {
        // Resume from an earlier offset: slicing a Blob copies nothing.
        fold();
        parts = [new Blob(parts).slice(0, offset)];
        size = offset;
      }
      for (const chunk of chunks) {
        pending.push(chunk as Uint8Array<ArrayBuffer>);
        pendingBytes += chunk.byteLength;
        size += chunk.byteLength;
      }
      if (pendingBytes >= foldBytes) fold();
    },
    async close() {
      fold();
      const blob = new Blob(parts, options.type ? { type: options.type } : {});
      parts = [];
      return blob;
    },
    async abort() {
      parts = [];
      pending = [];
    },
  };
}
