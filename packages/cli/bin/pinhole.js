#!/usr/bin/env node
// The `pinhole` executable npm links (node_modules/.bin/pinhole, or globally). It is kept in
// git rather than built into dist/ so that `npm ci` in a fresh clone links it before anything
// is built (npm links no bin whose file is missing); it runs the built CLI or says to build.
import { existsSync } from 'node:fs';

const built = new URL('../dist/bin.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write('pinhole: not built yet: run `npm run build` (or `npm start`) at the root of the repository\n');
  process.exitCode = 1;
}
