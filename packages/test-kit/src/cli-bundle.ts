/**
 * The `pinhole` CLI from source as one Node script, for tests that need a process boundary
 * (a hub killed with SIGKILL, processes inside network namespaces) and run the code under test
 * without a build. esbuild resolves the `development` condition as vitest does: workspace
 * packages are bundled from src, everything from node_modules stays external and resolves
 * from the repository's node_modules (the bundle is written below it).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'packages/cli');

/** Workspace packages are bundled from source; everything from node_modules stays external. */
const externalDependencies: Plugin = {
  name: 'external-dependencies',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@pinhole/') ? undefined : { path: args.path, external: true }));
  },
};

let bundled: Promise<string> | undefined;

/** Bundles the CLI once per test process; resolves with the script's path (deleted at exit). */
export function bundleCli(): Promise<string> {
  bundled ??= (async () => {
    const cache = join(ROOT, 'node_modules/.cache/pinhole-cli');
    mkdirSync(cache, { recursive: true });
    const dir = mkdtempSync(join(cache, `${process.pid}-`));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    // The CLI reads its version from ../package.json next to its script, as in dist/.
    const { version } = JSON.parse(readFileSync(join(CLI, 'package.json'), 'utf8')) as { version: string };
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ version, type: 'module' }));
    mkdirSync(join(dir, 'dist'));
    const outfile = join(dir, 'dist/pinhole.mjs');
    await build({
      entryPoints: [join(CLI, 'src/bin.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['development'],
      plugins: [externalDependencies],
      logLevel: 'error',
    });
    return outfile;
  })();
  return bundled;
}
