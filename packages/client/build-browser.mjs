// Bundles the browser entry (src/index.ts, no Node built-ins) into one ESM file.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('./src/index.ts', import.meta.url).pathname],
  outfile: new URL('./dist/pinhole.browser.js', import.meta.url).pathname,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  conditions: ['pinhole-source'],
  logLevel: 'warning',
});
