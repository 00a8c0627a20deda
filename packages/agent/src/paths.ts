/**
 * Paths inside the shared directory. A request names a path relative to the share (a
 * leading '/' means the share's root); `..` segments and NUL are refused outright, and the
 * real path (symlinks resolved) must stay inside the share's real path.
 */
import { realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { AgentError } from './errors.js';

const MAX_PATH_CHARS = 4096;

export async function resolveShared(root: string, requested: unknown): Promise<string> {
  if (requested === undefined) requested = '.';
  if (typeof requested !== 'string' || requested.length > MAX_PATH_CHARS) throw new AgentError('bad-request', 'path must be a string of at most 4096 characters');
  if (requested.includes('\0')) throw new AgentError('bad-path', 'path contains NUL');
  if (requested.split(/[\\/]/).includes('..')) throw new AgentError('bad-path', `'..' is not allowed in paths (${JSON.stringify(requested)})`);
  const base = await realpath(root);
  let real: string;
  try {
    real = await realpath(join(base, requested));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new AgentError('not-found', `no such file: ${requested}`);
    throw new AgentError('io', `${requested}: ${(err as Error).message}`, { cause: err });
  }
  if (real !== base && !real.startsWith(base + sep)) throw new AgentError('bad-path', `${requested} leads outside the shared directory`);
  return real;
}
