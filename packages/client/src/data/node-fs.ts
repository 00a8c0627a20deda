/**
 * Node-only sources, sinks and hash for file transfers: positional reads and writes on a
 * file handle, node:crypto SHA-256. Imported only from the Node entry (src/data/node.ts),
 * so the browser bundle never sees a node: import.
 */
import { createHash } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import type { FileSink, FileSource } from './io.js';
import type { Sha256Factory } from './sha256.js';

export const nodeSha256: Sha256Factory = () => {
  const hash = createHash('sha256');
  return {
    update: (bytes) => void hash.update(bytes),
    digest: () => new Uint8Array(hash.digest()),
  };
};

/** Opens `path` for reading; `name` defaults to its base name. */
export async function nodeFileSource(path: string, options: { name?: string; type?: string } = {}): Promise<FileSource> {
  const handle = await open(path, 'r');
  const { size } = await handle.stat();
  return {
    name: options.name ?? basename(path),
    size,
    type: options.type,
    async read(offset, length) {
      const want = Math.max(0, Math.min(length, size - offset));
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await handle.read(buf, got, want - got, offset + got);
        if (bytesRead === 0) throw new Error(`${path} ended at ${offset + got}, expected ${size} bytes (changed while sending?)`);
        got += bytesRead;
      }
      return buf;
    },
    close: () => handle.close(),
  };
}

export interface NodeFileSinkOptions {
  /** Keep the partial file when the transfer is cancelled or fails (default: delete it). */
  keepPartial?: boolean;
}

/**
 * Writes to `path` (created or truncated at the first write) with positional writes, so
 * a resumed transfer rewrites from the offset it resumes at. `close` resolves with the path.
 */
export function nodeFileSink(path: string, options: NodeFileSinkOptions = {}): FileSink<string> {
  let handle: Promise<FileHandle> | undefined;
  let end = 0;
  const file = () => (handle ??= open(path, 'w'));
  return {
    async write(chunks, offset) {
      const fh = await file();
      if (offset < end) await fh.truncate(offset);
      let at = offset;
      // writev may write less than asked; go on from where it stopped.
      let rest = chunks.slice();
      while (rest.length > 0) {
        const wanted = rest.reduce((n, c) => n + c.byteLength, 0);
        const { bytesWritten } = await fh.writev(rest, at);
        at += bytesWritten;
        if (bytesWritten === wanted) break;
        rest = skip(rest, bytesWritten);
      }
      end = at;
    },
    async close() {
      await (await file()).close();
      return path;
    },
    async abort() {
      if (handle) await (await handle).close().catch(() => {});
      if (!options.keepPartial) await unlink(path).catch(() => {});
    },
  };
}

function skip(chunks: Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    if (n >= c.byteLength) n -= c.byteLength;
    else {
      out.push(n > 0 ? c.subarray(n) : c);
      n = 0;
    }
  }
  return out;
}
