/**
 * Entry of the single executable (`npm run build:exe`, scripts/build-exe.mjs): Node's
 * single executable application runs this one bundled CommonJS file, with the web app's
 * build and the native addons stored inside the executable as assets.
 *
 * Files that must be real files (a native addon for `process.dlopen`, the web root the
 * hub serves from) are written out once per build, under a folder named by the build's
 * content hash, and reused by every later start: start-up costs one `stat` after the first.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { getAsset } from 'node:sea';
import { useBundledFiles } from './bundled.js';

/** The asset `manifest.json`, written by scripts/build-exe.mjs. */
interface Manifest {
  version: string;
  /** Content hash of every asset: names the folder they are written out to. */
  hash: string;
  /** Asset keys, which are also paths relative to that folder (web/…, native/…). */
  files: string[];
}

declare global {
  /** Loads a native addon shipped in the executable; used by the bundle's node-datachannel shim. */
  var __pinholeNative: ((file: string) => unknown) | undefined;
}

function cacheRoots(): string[] {
  const roots: string[] = [];
  if (process.env.PINHOLE_CACHE_DIR) roots.push(process.env.PINHOLE_CACHE_DIR);
  const xdg = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  roots.push(join(xdg, 'pinhole'), join(tmpdir(), `pinhole-${process.getuid?.() ?? 'user'}`));
  return roots;
}

/** The folder holding this build's files, written out on first use. */
function writeOut(manifest: Manifest): string {
  let lastError: unknown;
  for (const root of cacheRoots()) {
    const dir = join(root, `exe-${manifest.hash}`);
    if (existsSync(join(dir, '.complete'))) return dir;
    // Written beside, then renamed: a second process starting at the same time never sees half a folder.
    const partial = `${dir}.${randomBytes(6).toString('hex')}.partial`;
    try {
      for (const file of manifest.files) {
        const target = join(partial, file);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, new Uint8Array(getAsset(file)), { mode: file.endsWith('.node') ? 0o755 : 0o644 });
      }
      writeFileSync(join(partial, '.complete'), '');
      try {
        renameSync(partial, dir);
      } catch (error) {
        rmSync(partial, { recursive: true, force: true });
        if (!existsSync(join(dir, '.complete'))) throw error;
      }
      return dir;
    } catch (error) {
      rmSync(partial, { recursive: true, force: true });
      lastError = error;
    }
  }
  throw new Error(`pinhole: cannot write the executable's files to any of ${cacheRoots().join(', ')}: ${String(lastError)}`);
}

async function main(): Promise<void> {
  const manifest = JSON.parse(getAsset('manifest.json', 'utf8')) as Manifest;
  const dir = writeOut(manifest);
  useBundledFiles({ version: manifest.version, webRoot: join(dir, 'web') });
  globalThis.__pinholeNative = (file) => {
    const module = { exports: {} as unknown };
    process.dlopen(module, join(dir, 'native', file));
    return module.exports;
  };
  // Imported only now: loading the SDK loads node-datachannel, which needs __pinholeNative.
  const { exitWith, runCli } = await import('./cli.js');
  exitWith(await runCli(process.argv.slice(2)));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
