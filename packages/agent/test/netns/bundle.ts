/**
 * The `pinhole` CLI from source as one Node script, so processes started inside network
 * namespaces (`ip netns exec … node pinhole.mjs serve|agent|connect`) run the code under
 * test without a build. Native and optional modules stay external and resolve from the
 * repository's node_modules (the bundle is written below it).
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

export async function bundleCli(): Promise<string> {
  // The CLI reads its version from ../package.json next to its script, as in dist/.
  const dir = join(ROOT, 'node_modules/.cache/pinhole-netns', String(process.pid));
  mkdirSync(join(dir, 'dist'), { recursive: true });
  const { version } = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')) as { version: string };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ version, type: 'module' }));
  const outfile = join(dir, 'dist/pinhole.mjs');
  await build({
    entryPoints: [join(ROOT, 'packages/cli/src/bin.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['development'],
    external: ['node-datachannel', 'node-datachannel/*', 'bufferutil', 'utf-8-validate', 'ioredis', 'mqtt', 'vite', 'playwright-core'],
    // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
    banner: { js: "import { createRequire as __pinholeRequire } from 'node:module'; const require = __pinholeRequire(import.meta.url);" },
    logLevel: 'error',
  });
  // The hub's cluster script is read at start from lua/ next to the module that loads it
  // (packages/server/src/cluster/script-source.ts), which is this bundle now.
  cpSync(join(ROOT, 'packages/server/src/cluster/lua'), join(dir, 'dist/lua'), { recursive: true });
  return outfile;
}
