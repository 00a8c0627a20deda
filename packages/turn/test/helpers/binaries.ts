/** Executables the tests use (coturn, Chromium), found on PATH; no other imports, so any test project can use it. */
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
