/**
 * The `files` service: a shared directory, read-only. `list` and `stat` answer on the
 * `files` channel; `get` answers there and sends the file with the SDK's file transfer
 * (own channel, windowed, SHA-256 checked, resumed after a connection rebuild). `offset`
 * sends only the bytes from there on, so a client that lost a download part-way (crash,
 * restart) continues where its partial file ends.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { nodeFileSource, type FileSource, type RemotePeer } from '@pinhole/node';
import { MAX_LIST_ENTRIES } from '../defaults.js';
import { AgentError } from '../errors.js';
import { resolveShared } from '../paths.js';
import type { Request } from '../rpc.js';

export interface FileEntry {
  name: string;
  kind: 'file' | 'dir' | 'other';
  size: number;
  mtimeMs: number;
}

/** What a `get` reply carries; the transfer's offer has the same in its meta. */
export interface GetReply {
  transfer: string;
  name: string;
  /** First byte sent, and the file's whole size. */
  offset: number;
  size: number;
}

export class FilesService {
  constructor(readonly root: string | undefined) {}

  async handle(req: Request, peer: RemotePeer): Promise<object> {
    if (this.root === undefined) throw new AgentError('not-shared', 'this agent shares no directory (start it with --share DIR)');
    switch (req.op) {
      case 'list':
        return this.#list(this.root, req.path);
      case 'stat': {
        const path = await resolveShared(this.root, req.path);
        return { entry: await entry(path, basename(path)) };
      }
      case 'get':
        return this.#get(this.root, req, peer);
      default:
        throw new AgentError('unknown-op', `the files service has no op ${JSON.stringify(req.op)} (list, stat, get)`);
    }
  }

  async #list(root: string, requested: unknown): Promise<object> {
    const dir = await resolveShared(root, requested);
    if (!(await stat(dir)).isDirectory()) throw new AgentError('not-a-directory', `${String(requested)} is not a directory`);
    const names = (await readdir(dir)).sort();
    const entries: FileEntry[] = [];
    for (const name of names.slice(0, MAX_LIST_ENTRIES)) {
      try {
        entries.push(await entry(join(dir, name), name));
      } catch {
        // vanished or unreadable between readdir and stat: not listed
      }
    }
    return { path: relative(await resolveShared(root, '.'), dir) || '.', entries, truncated: names.length > MAX_LIST_ENTRIES };
  }

  async #get(root: string, req: Request, peer: RemotePeer): Promise<GetReply> {
    const offset = req.offset ?? 0;
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw new AgentError('bad-request', 'offset must be a non-negative integer');
    const path = await resolveShared(root, req.path);
    const info = await stat(path);
    if (!info.isFile()) throw new AgentError('not-a-file', `${String(req.path)} is not a regular file`);
    if (offset > info.size) throw new AgentError('bad-offset', `offset ${offset} is past the end of ${String(req.path)} (${info.size} bytes)`);
    let source: FileSource;
    try {
      source = await nodeFileSource(path);
    } catch (err) {
      throw new AgentError('io', `cannot open ${String(req.path)}: ${(err as Error).message}`, { cause: err });
    }
    const name = basename(path);
    const transfer = peer.sendFile(fromOffset(source, offset), { name, meta: { request: req.id, path: String(req.path), offset, size: source.size } });
    return { transfer: transfer.id, name, offset, size: source.size };
  }
}

async function entry(path: string, name: string): Promise<FileEntry> {
  const s = await stat(path);
  return { name, kind: s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other', size: s.size, mtimeMs: Math.round(s.mtimeMs) };
}

/** The bytes of `source` from `offset` on, as a source of their own. */
function fromOffset(source: FileSource, offset: number): FileSource {
  if (offset === 0) return source;
  return {
    name: source.name,
    size: source.size - offset,
    type: source.type,
    read: (at, length) => source.read(offset + at, length),
    close: () => source.close?.() ?? Promise.resolve(),
  };
}
