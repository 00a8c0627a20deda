/**
 * The cluster script (src/cluster/lua/*.lua) through luacheck (Debian: lua-check), joined
 * as Redis runs it: any warning fails, reported at its file and line.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { LUA_FILES, LUA_PARTS } from '../src/cluster/script-source.js';

const dir = fileURLToPath(new URL('../src/cluster/lua/', import.meta.url));

/** luacheck's warnings for `source` (one `file:line:col: (Wnnn) text` per line). */
function luacheck(source: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'luacheck',
      ['--config', `${dir}.luacheckrc`, '--formatter', 'plain', '--codes', '--filename', 'cluster.lua', '-'],
      (err, stdout, stderr) => {
        // Exit 1: warnings, 2: errors (both listed on stdout); anything else: luacheck failed.
        const code = err ? (err as { code?: unknown }).code : 0;
        if (code !== 0 && code !== 1 && code !== 2) {
          reject(new Error(`luacheck failed (${String(code)}): ${stderr || err?.message} (apt-get install lua-check)`));
          return;
        }
        resolve(stdout.split('\n').filter((line) => line !== ''));
      },
    );
    child.stdin!.end(source);
  });
}

/** Maps `cluster.lua:<line>:` of the joined script back to the file the line came from. */
function located(warning: string): string {
  const match = /^cluster\.lua:(\d+):(.*)$/.exec(warning);
  if (!match) return warning;
  let line = Number(match[1]);
  for (const part of LUA_PARTS) {
    const lines = part.text.split('\n').length - 1;
    if (line <= lines) return `${part.file}:${line}:${match[2]}`;
    line -= lines;
  }
  return warning;
}

it('every .lua file of the cluster script is part of the script Redis runs', () => {
  const onDisk = readdirSync(dir).filter((f) => f.endsWith('.lua'));
  expect(onDisk.sort()).toEqual([...LUA_FILES].sort());
});

it('luacheck finds nothing in the cluster script (lib.lua + apply.lua + ops.lua, as loaded)', async () => {
  const warnings = await luacheck(LUA_PARTS.map((p) => p.text).join(''));
  expect(warnings.map(located)).toEqual([]);
});

it('luacheck with these settings does flag what Redis would reject or what is dead', async () => {
  const warnings = await luacheck("local unused = ARGV[1]\nleaked = redis.call('GET', KEYS[1])\n");
  expect(warnings).toEqual([
    expect.stringMatching(/^cluster\.lua:1:\d+: \(W211\) unused variable 'unused'/),
    expect.stringMatching(/^cluster\.lua:2:\d+: \(W111\) setting non-standard global variable 'leaked'/),
  ]);
});
