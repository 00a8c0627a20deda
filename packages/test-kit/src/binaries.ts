/** Executables the tests use (coturn, Chromium, ip, nft), found on PATH. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Absolute path of an executable `name` on PATH, or undefined. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin').split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/**
 * Chromium for the browser side: PINHOLE_CHROMIUM, else the first of chromium,
 * chromium-browser, google-chrome on PATH. Fails loudly (Debian: apt-get install chromium).
 */
export function chromiumBinary(): string {
  const fromEnv = process.env.PINHOLE_CHROMIUM;
  if (fromEnv) return fromEnv;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const found = onPath(name);
    if (found) return found;
  }
  throw new Error('Chromium not found: install it (apt-get install -y chromium) or set PINHOLE_CHROMIUM');
}

/**
 * Absolute path of a coturn binary, or a loud failure: these tests must not skip silently.
 * CI installs coturn; locally run `apt-get install -y coturn`.
 */
export function coturnBinary(name: string): string {
  const found = onPath(name);
  if (found) return found;
  throw new Error(`${name} not found in PATH: install coturn (apt-get install -y coturn) to run the interop tests`);
}
