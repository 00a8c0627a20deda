/**
 * A download target that may already hold the first `base` bytes (a resumed download):
 * positional writes at base + offset, truncating anything past the point written to,
 * and the partial file kept on failure so the next attempt can go on from its size.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { FileSink } from '@pinhole/node';

export function rangeSink(path: string, base: number): FileSink<string> {
  let handle: Promise<FileHandle> | undefined;
  let end = -1;
  const file = () =>
    (handle ??= (async () => {
      const fh = await open(path, base === 0 ? 'w' : 'r+');
      await fh.truncate(base); // bytes past the resume point are not ours to keep
      return fh;
    })());
  return {
    async write(chunks, offset) {
      const fh = await file();
      let at = base + offset;
      if (end >= 0 && at < end) await fh.truncate(at);
      for (const chunk of chunks) {
        let done = 0;
        while (done < chunk.byteLength) {
          const { bytesWritten } = await fh.write(chunk, done, chunk.byteLength - done, at);
          done += bytesWritten;
          at += bytesWritten;
        }
      }
      end = at;
    },
    async close() {
      await (await file()).close();
      return path;
    },
    async abort() {
      if (handle) await (await handle).close().catch(() => {});
    },
  };
}
