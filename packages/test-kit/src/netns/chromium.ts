/**
 * Debian's Chromium inside a network namespace: playwright-core launches the browser
 * through a pipe, so a wrapper script that `ip netns exec`s the real binary puts the whole
 * browser (and its network service) in the namespace. The page is served by request
 * interception, so the browser needs no route to any web server; the page runs the test's
 * entry, which sets `globalThis.peer`. The hub's self-signed certificate (HTTPS and TURN/TLS)
 * is accepted.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { chromiumBinary } from '../binaries.js';
import { CHROMIUM_ARGS, bundleForBrowser } from '../browser.js';

const PAGE = 'http://pinhole.test/';

/** One bundle per entry and test process (building it costs seconds). */
const bundles = new Map<string, Promise<string>>();

export interface NamespacedChromium {
  page: Page;
  /** Calls `window.peer.<call>` in the page. */
  call<T>(call: string): Promise<T>;
  close(): Promise<void>;
}

/** Chromium in namespace `ns`, on a page running `entry` (bundled for the browser). */
export async function chromiumIn(ns: string, entry: URL, extraArgs: string[] = []): Promise<NamespacedChromium> {
  const dir = mkdtempSync(join(tmpdir(), 'pinhole-chromium-'));
  const wrapper = join(dir, 'chromium');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ${chromiumBinary()} "$@"\n`);
  chmodSync(wrapper, 0o755);
  let bundle = bundles.get(entry.href);
  if (!bundle) bundles.set(entry.href, (bundle = bundleForBrowser(entry)));
  const script = await bundle;
  const browser = await chromium.launch({ executablePath: wrapper, args: [...CHROMIUM_ARGS, '--ignore-certificate-errors', ...extraArgs] }).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const close = async () => {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const page = await browser.newPage();
    page.on('console', (m) => m.type() === 'error' && console.error(`[chromium ${ns}] ${m.text()}`));
    await page.route(`${PAGE}**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/') return route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><script type="module" src="/entry.js"></script>' });
      if (path === '/entry.js') return route.fulfill({ contentType: 'text/javascript', body: script });
      return route.fulfill({ status: 404 });
    });
    await page.goto(PAGE);
    await page.waitForFunction('typeof globalThis.peer === "object"');
    return { page, call: (call) => page.evaluate(`peer.${call}`), close };
  } catch (err) {
    await close();
    throw err;
  }
}
