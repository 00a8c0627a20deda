#!/usr/bin/env node
/**
 * `npm run build:exe`: the whole of Pinhole (CLI, hub, TURN, SDK, agent, web app, native
 * addons) as one Linux executable, dist/pinhole-<platform>-<arch>, that needs no Node and
 * no node_modules. Node's single executable applications (SEA): esbuild bundles
 * packages/cli/src/sea-main.ts into one CommonJS file, `node --experimental-sea-config`
 * turns it and the assets into a blob, and postject injects the blob into a copy of this
 * Node binary. Needs Node ≥ 20.12 (SEA assets) and a prior `npm run build` (the web app).
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');
const work = join(out, 'exe-build');
const target = join(out, `pinhole-${process.platform}-${process.arch}`);
const require = createRequire(join(root, 'packages/cli/package.json'));

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 12)) throw new Error(`build:exe needs Node ≥ 20.12 (SEA assets); this is ${process.version}`);

/** Asset key → file on disk. Keys are paths under the folder the executable writes them to. */
const assets = {};
const webDist = join(root, 'apps/web/dist');
if (!statSync(join(webDist, 'index.html'), { throwIfNoEntry: false })) throw new Error('apps/web/dist is missing: run `npm run build` first');
const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
for (const file of walk(webDist)) assets[`web/${relative(webDist, file)}`] = file;

// node-datachannel's loader looks for its addon through node_modules; in the executable it
// comes from the assets instead (sea-main.ts writes it out and loads it with process.dlopen).
const datachannelDir = dirname(require.resolve('node-datachannel'));
const addonPackage = `@node-datachannel/${process.platform}-${process.arch}${process.platform === 'linux' ? '-gnu' : ''}`;
assets['native/node_datachannel.node'] = join(dirname(createRequire(join(datachannelDir, 'x.js')).resolve(`${addonPackage}/package.json`)), 'node_datachannel.node');

const nativeShim = {
  name: 'pinhole-native',
  setup(b) {
    b.onLoad({ filter: /node-datachannel[\\/]dist[\\/](cjs|esm)[\\/]lib[\\/]node-datachannel\.(cjs|mjs)$/ }, (args) => ({
      contents: args.path.endsWith('.cjs')
        ? "exports.default = globalThis.__pinholeNative('node_datachannel.node');"
        : "export default globalThis.__pinholeNative('node_datachannel.node');",
      loader: 'js',
    }));
  },
};

// bufferutil and utf-8-validate: optional native speed-ups that ws tries to require and does
// without; left out, so that the executable's require() is never asked for a file on disk.
const optionalNative = {
  name: 'pinhole-optional-native',
  setup(b) {
    b.onResolve({ filter: /^(bufferutil|utf-8-validate)$/ }, (args) => ({ path: args.path, namespace: 'left-out' }));
    b.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({ contents: `throw new Error('${args.path} is not in the executable');`, loader: 'js' }));
  },
};

// The hub's cluster script (packages/server/src/cluster/lua/*.lua) is read at start from lua/
// next to the module that loads it, dist/cluster/script-source.js; in the executable that
// module is replaced by one holding the text, read here from the package build.
const scriptSource = join(root, 'packages/server/dist/cluster/script-source.js');
const lua = await import(pathToFileURL(scriptSource).href);
const inlineClusterScript = {
  name: 'pinhole-cluster-script',
  setup(b) {
    b.onLoad({ filter: /[\\/]server[\\/]dist[\\/]cluster[\\/]script-source\.js$/ }, () => ({
      contents: ['LUA_FILES', 'LUA_PARTS', 'CLUSTER_SCRIPT'].map((name) => `export const ${name} = ${JSON.stringify(lua[name])};`).join('\n'),
      loader: 'js',
    }));
  },
};

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const bundle = join(work, 'pinhole.cjs');
await build({
  entryPoints: [join(root, 'packages/cli/src/sea-main.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: bundle,
  // The bundle takes each package's Node build, never its TypeScript sources (the `pinhole-source` condition).
  conditions: ['node'],
  plugins: [nativeShim, optionalNative, inlineClusterScript],
  logLevel: 'warning',
  // Code that reads import.meta.url is bypassed in the executable (bundled.ts), but esbuild
  // still sees it; an empty import.meta there is expected.
  logOverride: { 'empty-import-meta': 'silent' },
  legalComments: 'none',
});

const hash = createHash('sha256');
for (const key of Object.keys(assets).sort()) hash.update(key).update('\0').update(readFileSync(assets[key]));
hash.update(readFileSync(bundle));
const manifest = {
  version: JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8')).version,
  hash: hash.digest('hex').slice(0, 16),
  files: Object.keys(assets).sort(),
};
writeFileSync(join(work, 'manifest.json'), JSON.stringify(manifest));
assets['manifest.json'] = join(work, 'manifest.json');

const blob = join(work, 'sea.blob');
writeFileSync(
  join(work, 'sea-config.json'),
  JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets }, null, 2),
);
execFileSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], { stdio: 'inherit' });

rmSync(target, { force: true });
copyFileSync(process.execPath, target);
execFileSync(
  process.execPath,
  [require.resolve('postject/dist/cli.js'), target, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
rmSync(work, { recursive: true, force: true });
const mb = (statSync(target).size / 2 ** 20).toFixed(1);
console.log(`${relative(root, target)}: ${mb} MiB (${manifest.files.length} assets, build ${manifest.hash})`);
