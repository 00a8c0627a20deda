/**
 * What `npm pack` puts in each publishable workspace's tarball (issue 17 §4): its README,
 * the license, package.json and the built dist/ — every file that `exports`, `types` and
 * `bin` name, for every condition a consumer may use — and nothing of the sources, tests or
 * build configuration. `pinhole-source` (the workspace's own condition that points at
 * src/) is the one target allowed to be absent. Needs `npm run build` first, as `npm test` does.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const SOURCE_CONDITION = 'pinhole-source';

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  files?: string[];
  engines?: { node?: string };
  exports?: unknown;
  types?: string;
  main?: string;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
}

interface Packed {
  name: string;
  files: { path: string }[];
}

const workspaces = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
const manifests = new Map(
  workspaces.map((dir) => {
    const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as Manifest;
    return [manifest.name, { dir, manifest }] as const;
  }),
);
const published = [...manifests.values()].filter((w) => !w.manifest.private);

/** Every file an `exports` map names, except under the source condition. */
function exportTargets(exports: unknown, condition?: string): string[] {
  if (typeof exports === 'string') return condition === SOURCE_CONDITION ? [] : [exports];
  if (exports === null || typeof exports !== 'object') return [];
  return Object.entries(exports).flatMap(([key, value]) => exportTargets(value, key.startsWith('.') ? condition : key));
}

const packed = (async () => {
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', ...published.flatMap((w) => ['--workspace', w.dir])], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  return new Map((JSON.parse(stdout) as Packed[]).map((p) => [p.name, new Set(p.files.map((f) => f.path))]));
})();

describe.each(published.map((w) => [w.manifest.name, w] as const))('%s tarball', (name, { dir, manifest }) => {
  it('holds README, LICENSE, package.json and the built files that exports, types and bin name', async () => {
    const files = (await packed).get(name);
    expect(files, `npm pack listed no ${name}`).toBeDefined();
    for (const f of ['package.json', 'README.md', 'LICENSE']) expect(files).toContain(f);
    const named = [...exportTargets(manifest.exports), manifest.types, manifest.main, ...Object.values(manifest.bin ?? {})].filter((f): f is string => f !== undefined);
    expect(named.length).toBeGreaterThan(0);
    for (const target of named) expect(files, `${target} (run npm run build first)`).toContain(target.replace(/^\.\//, ''));
  });

  it('holds no sources, tests or build configuration', async () => {
    const files = [...((await packed).get(name) ?? [])];
    const stray = files.filter((f) => /^(src|test)\//.test(f) || /\.test\.|tsconfig|\.tsbuildinfo$|vite\.config|build-browser/.test(f));
    expect(stray).toEqual([]);
  });

  it('declares license, files, engines, and depends on sibling packages at their versions', () => {
    expect(manifest.license).toBe('MIT');
    expect(readFileSync(join(root, dir, 'LICENSE'), 'utf8')).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
    expect(manifest.files?.length).toBeGreaterThan(0);
    expect(manifest.engines?.node).toMatch(/^>=20\./);
    for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) {
      const sibling = manifests.get(dep);
      if (sibling) {
        expect(sibling.manifest.private, `${dep} is private but ${name} depends on it`).not.toBe(true);
        expect(range).toBe(sibling.manifest.version);
      }
    }
  });
});
