/**
 * Serves the meeting web app (the built `@pinhole/web` package, apps/web/dist) on the hub's
 * own port, so `pinhole serve` is the whole product: open https://host:8443/ and call.
 *
 * - `/assets/*` are content-hashed by Vite: cached for a year, immutable.
 * - Everything else that is not a file (e.g. join links `/r/<room>`) gets index.html
 *   (the app routes itself), never cached so a new build shows up at once.
 * - Paths are resolved inside the root and anything escaping it is refused (403).
 * - Without a build, `/` explains how to make one instead of a bare 404.
 */
import { createReadStream, statSync, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { bundledFiles } from './bundled.js';

/** By extension; anything else is application/octet-stream (and nosniff keeps it so). */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * The app talks only to its own origin (hub API, WebSocket); media and files live in blob:
 * URLs and the QR code is a data: image.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "connect-src 'self' blob:",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "style-src 'self'",
  "script-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * apps/web/dist through the workspace package (or as the single executable wrote it out),
 * or undefined when @pinhole/web is not installed.
 */
export function defaultWebRoot(): string | undefined {
  const bundled = bundledFiles();
  if (bundled) return bundled.webRoot;
  try {
    return dirname(createRequire(import.meta.url).resolve('@pinhole/web/index.html'));
  } catch {
    return undefined;
  }
}

export type WebHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A request handler serving the built app from `root`: the `fallback` of `startHub`, which
 * gives it every path the hub does not route (the hub's own routes keep priority).
 */
export function webAppHandler(root: string | undefined = defaultWebRoot()): WebHandler {
  const base = root === undefined ? undefined : resolve(root);
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    const index = base === undefined ? undefined : fileAt(join(base, 'index.html'));
    if (base === undefined || index === undefined) return notBuilt(req, res);

    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://web').pathname);
    } catch {
      return text(res, 400, 'bad path encoding\n');
    }
    if (pathname.includes('\0')) return text(res, 400, 'bad path\n');
    const target = resolve(base, `.${pathname}`);
    if (target !== base && !target.startsWith(base + sep)) return text(res, 403, 'forbidden\n');

    const stats = fileAt(target);
    if (stats) return send(req, res, target, stats, pathname.startsWith('/assets/') ? IMMUTABLE : 'no-cache');
    // A missing asset is a 404 (a stale page asking for an old hash must not get HTML);
    // any other path is an app route such as /r/<room>.
    if (pathname.startsWith('/assets/') || extname(pathname) !== '') return text(res, 404, 'not found\n');
    send(req, res, join(base, 'index.html'), index, 'no-cache');
  };
}

function fileAt(path: string): Stats | undefined {
  try {
    const stats = statSync(path);
    return stats.isFile() ? stats : undefined;
  } catch {
    return undefined;
  }
}

function send(req: IncomingMessage, res: ServerResponse, path: string, stats: Stats, cacheControl: string): void {
  const type = CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
  const headers: Record<string, string | number> = {
    'content-type': type,
    'content-length': stats.size,
    'cache-control': cacheControl,
    'last-modified': stats.mtime.toUTCString(),
    'x-content-type-options': 'nosniff',
  };
  if (type.startsWith('text/html')) {
    headers['content-security-policy'] = CONTENT_SECURITY_POLICY;
    headers['referrer-policy'] = 'no-referrer';
  }
  res.writeHead(200, headers);
  if (req.method === 'HEAD') return void res.end();
  const stream = createReadStream(path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).end(body);
}

function notBuilt(req: IncomingMessage, res: ServerResponse): void {
  const body = [
    '<!doctype html><meta charset="utf-8"><title>Pinhole: web app not built</title>',
    '<h1>The Pinhole web app is not built yet</h1>',
    '<p>The hub is running (its API is under <code>/v1/</code>), but there is no web app to serve.</p>',
    '<p>Run <code>npm run build</code> in the repository (or <code>npm start</code>, which builds and serves), then reload this page.</p>',
  ].join('\n');
  res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'retry-after': '10' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
