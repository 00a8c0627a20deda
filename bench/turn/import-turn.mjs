// Loads @pinhole/turn's built dist: by package name when the workspace is linked into
// node_modules, otherwise from packages/turn/dist (built on demand with the package's own
// tsconfig.build.json). Plain Node ESM, no TypeScript loader needed.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = new URL('../../packages/turn/dist/index.js', import.meta.url);

export function buildTurn() {
  execFileSync(`${root}node_modules/.bin/tsc`, ['-p', `${root}packages/turn/tsconfig.build.json`], { stdio: 'inherit' });
}

export async function importTurn() {
  // BASELINE_TURN_DIST: another build of the package (e.g. of an older commit), so that one run
  // can interleave it with the current build (run.mjs's "Pinhole TURN (baseline)" row).
  if (process.env.BASELINE_TURN_DIST) {
    return { turn: await import(pathToFileURL(process.env.BASELINE_TURN_DIST).href), via: process.env.BASELINE_TURN_DIST };
  }
  try {
    return { turn: await import('@pinhole/turn'), via: 'package name @pinhole/turn' };
  } catch {
    if (!existsSync(dist)) buildTurn();
    return { turn: await import(dist.href), via: 'packages/turn/dist (not linked in node_modules: packages/turn is not a root workspace)' };
  }
}
