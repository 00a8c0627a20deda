/**
 * Reads a FileSource in large blocks (readBytes) and hands them out as chunk-sized views,
 * with the next block already being read: one read per megabyte instead of one per chunk,
 * and the disk works while the channel sends.
 */
import type { FileSource } from './io.js';

interface Block {
  offset: number;
  bytes: Uint8Array;
}

export class ChunkReader {
  readonly #source: FileSource;
  readonly #readBytes: number;
  #block: Block | undefined;
  #ahead: { offset: number; block: Promise<Block> } | undefined;

  constructor(source: FileSource, readBytes: number) {
    this.#source = source;
    this.#readBytes = readBytes;
  }

  /** Up to `max` bytes at `offset` (a view into the block: send or copy before the next call). */
  async chunk(offset: number, max: number): Promise<Uint8Array> {
    let block = this.#block;
    if (!block || offset < block.offset || offset >= block.offset + block.bytes.byteLength) {
      const ahead = this.#ahead;
      this.#ahead = undefined;
      block = ahead && ahead.offset === offset ? await ahead.block : await this.#read(offset);
      this.#block = block;
    }
    const next = block.offset + block.bytes.byteLength;
    if (!this.#ahead && next < this.#source.size && block.bytes.byteLength > 0) {
      const ahead = { offset: next, block: this.#read(next) };
      ahead.block.catch(() => {}); // surfaces when (if) it is awaited
      this.#ahead = ahead;
    }
    const start = offset - block.offset;
    return block.bytes.subarray(start, start + max);
  }

  /** Drops the buffered blocks (a finished transfer may stay referenced for a while). */
  clear(): void {
    this.#block = undefined;
    this.#ahead = undefined;
  }

  async #read(offset: number): Promise<Block> {
    const length = Math.min(this.#readBytes, this.#source.size - offset);
    return { offset, bytes: length > 0 ? await this.#source.read(offset, length) : new Uint8Array(0) };
  }
}
