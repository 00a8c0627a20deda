/**
 * Real-Chromium test harness: launch Debian's Chromium through playwright-core, bundle a
 * test entry with esbuild, and serve it from a tiny static server on a free port of
 * localhost (a secure context, so getUserMedia and getDisplayMedia work).
 *
 * Usage:
 *   const harness = await openHarness(new URL('./entry.ts', import.meta.url));
 *   await harness.page.evaluate('scenarios.connect()');
 *   await harness.close(); // page, browser and server
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumBinary } from './binaries.js';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--use-fake-device-for-media-stream', // camera 640x480, three fake microphones
  '--use-fake-ui-for-media-stream', // grants getUserMedia / getDisplayMedia (a fake 1280x720 screen)
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  // Host candidates as IP addresses rather than mDNS names nobody on this box resolves.
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumBinary(), args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** Bundles a browser entry (and the src files it imports) into one ESM script. */
export async function bundleForBrowser(entry: string | URL): Promise<string> {
  const result = await build({
    entryPoints: [typeof entry === 'string' ? entry : fileURLToPath(entry)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['pinhole-source'],
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return result.outputFiles[0]!.text;
}

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { html: 'text/html', js: 'text/javascript', json: 'application/json' };

/** Serves `files` (path → content) on a free port of localhost. */
export async function serveStatic(files: Record<string, string | Uint8Array>): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const body = files[path];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    const extension = path.endsWith('/') ? 'html' : (path.split('.').pop() ?? '');
    res.writeHead(200, { 'content-type': TYPES[extension] ?? 'application/octet-stream' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Harness {
  browser: Browser;
  page: Page;
  server: StaticServer;
  close(): Promise<void>;
}

/**
 * Bundles `entry`, serves it as the module script of an empty page, opens that page in a
 * fresh Chromium and waits until the entry has run. Console errors of the page are
 * forwarded to the test's stderr.
 */
export async function openHarness(entry: string | URL, extraArgs: string[] = []): Promise<Harness> {
  const script = await bundleForBrowser(entry);
  const server = await serveStatic({
    '/': '<!doctype html><meta charset="utf-8"><title>pinhole test</title><script type="module" src="/entry.js"></script>',
    '/entry.js': script,
  });
  const browser = await launchChromium(extraArgs);
  try {
    const page = await browser.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') console.error(`[chromium] ${message.text()}`);
    });
    page.on('pageerror', (err) => console.error(`[chromium] ${err.message}`));
    await page.goto(server.url);
    await page.waitForFunction('document.readyState === "complete"');
    return {
      browser,
      page,
      server,
      close: async () => {
        await browser.close();
        await server.close();
      },
    };
  } catch (err) {
    await browser.close();
    await server.close();
    throw err;
  }
}
