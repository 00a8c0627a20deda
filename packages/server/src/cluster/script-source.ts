/**
 * The cluster script's text: the files in ./lua, read once at start and joined in the order
 * below into the one script Redis runs (and the lint test checks). The only module that
 * reads them, so a bundler (a later single executable) can replace it with one that
 * inlines the files. The package build copies ./lua next to the compiled module.
 */
import { readFileSync } from 'node:fs';

/** lib.lua defines the limits and shared functions that apply.lua and ops.lua use. */
export const LUA_FILES = ['lib.lua', 'apply.lua', 'ops.lua'] as const;

export interface LuaPart {
  file: (typeof LUA_FILES)[number];
  /** Ends with a newline, so line numbers of the joined script map back to the file. */
  text: string;
}

export const LUA_PARTS: readonly LuaPart[] = LUA_FILES.map((file) => {
  const text = readFileSync(new URL(`./lua/${file}`, import.meta.url), 'utf8');
  return { file, text: text.endsWith('\n') ? text : `${text}\n` };
});

export const CLUSTER_SCRIPT = LUA_PARTS.map((part) => part.text).join('');
