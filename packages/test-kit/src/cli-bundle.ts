/**
 * The `pinhole` CLI from source as one Node script, for tests that need a process boundary
 * (a hub killed with SIGKILL, processes inside network namespaces) and run the code under test
 * without a build. esbuild resolves the `pinhole-source` condition as vitest does: workspace
 * packages are bundled from src, everything from node_modules stays external and resolves
 * from the repository's node_modules (the bundle is written below it).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'packages/cli');

const NESTED = Symbol('nested');

/** `name`'s package directory name: `werift`, `@scope/pkg`. */
const packageOf = (name: string): string => name.split('/').slice(0, name.startsWith('@') ? 2 : 1).join('/');

/**
 * Workspace packages are bundled from source; everything from node_modules stays external. A
 * dependency npm nested in one workspace's node_modules (e.g. werift under packages/sfu) is not
 * found from the bundle's place, so it is imported by the absolute path esbuild resolves for it.
 */
const externalDependencies: Plugin = {
  name: 'external-dependencies',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith('@pinhole/') || args.pluginData === NESTED) return undefined;
      if (args.path.startsWith('node:') || existsSync(join(ROOT, 'node_modules', packageOf(args.path)))) return { path: args.path, external: true };
      const resolved = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: NESTED });
      return resolved.errors.length > 0 || resolved.external ? { path: args.path, external: true } : { path: resolved.path, external: true };
    });
  },
};

let bundled: Promise<string> | undefined;

/** Whether process `pid` still runs (EPERM: it does, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Bundles of test workers that were killed rather than exited (no 'exit' event ran). */
function removeOrphans(cache: string): void {
  for (const name of readdirSync(cache)) {
    const pid = Number(name.split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) rmSync(join(cache, name), { recursive: true, force: true });
  }
}

/**
 * Bundles the CLI once per test process; resolves with the script's path, which stays until
 * the process exits (callers must not delete it: every test of the file shares it).
 */
export function bundleCli(): Promise<string> {
  bundled ??= (async () => {
    const cache = join(ROOT, 'node_modules/.cache/pinhole-cli');
    mkdirSync(cache, { recursive: true });
    removeOrphans(cache);
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
      conditions: ['pinhole-source'],
      plugins: [externalDependencies],
      logLevel: 'error',
    });
    // The hub's cluster script is read at start from lua/ next to the module that loads it
    // (packages/server/src/cluster/script-source.ts), which is this bundle now.
    cpSync(join(ROOT, 'packages/server/src/cluster/lua'), join(dir, 'dist/lua'), { recursive: true });
    return outfile;
  })();
  return bundled;
}
