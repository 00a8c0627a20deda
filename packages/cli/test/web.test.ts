/**
 * The web app's static handler (src/web.ts) on a real HTTP server, over a temp build
 * directory, as the `fallback` of a real hub: hub routes keep priority, the app gets the rest.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub, type RunningHub } from '@pinhole/server';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webAppHandler } from '../src/web.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A raw request: the path is sent exactly as given (no URL normalisation of `..`). */
function fetchRaw(port: number, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const root = mkdtempSync(join(tmpdir(), 'pinhole-web-'));
const dist = join(root, 'dist');
const empty = join(root, 'empty');
let hub: RunningHub;
let bare: RunningHub;
let plain: RunningHub;
let throwing: RunningHub;

beforeAll(async () => {
  mkdirSync(join(dist, 'assets'), { recursive: true });
  mkdirSync(empty);
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(join(dist, 'assets', 'index-abc123.css'), 'body{}');
  writeFileSync(join(root, 'secret.txt'), 'not for you');
  const logger = pino({ level: 'silent' });
  const at = { host: '127.0.0.1', port: 0, logger };
  [hub, bare, plain, throwing] = await Promise.all([
    startHub({ ...at, fallback: webAppHandler(dist) }),
    startHub({ ...at, fallback: webAppHandler(empty) }),
    startHub(at),
    startHub({
      ...at,
      fallback: () => {
        throw new Error('broken handler');
      },
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([hub?.close(), bare?.close(), plain?.close(), throwing?.close()]);
  rmSync(root, { recursive: true, force: true });
});

describe('the web app behind the hub', () => {
  it('serves index.html at / with no-cache and a content security policy', async () => {
    const r = await fetchRaw(hub.port, '/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers['content-security-policy']).toContain("default-src 'self'");
    expect(r.body).toBe('<!doctype html><title>app</title>');
  });

  it.each([
    ['/assets/index-abc123.js', 'text/javascript; charset=utf-8', 'console.log(1)'],
    ['/assets/index-abc123.css', 'text/css; charset=utf-8', 'body{}'],
  ])('serves %s with its type, cached for a year', async (path, type, body) => {
    const r = await fetchRaw(hub.port, path);
    expect(r).toMatchObject({ status: 200, body });
    expect(r.headers['content-type']).toBe(type);
    expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  it('answers join links (/r/<room>) and other app routes with index.html', async () => {
    for (const path of ['/r/standup', '/r/standup?relay=1', '/somewhere/else']) {
      const r = await fetchRaw(hub.port, path);
      expect(r.status).toBe(200);
      expect(r.body).toContain('<title>app</title>');
    }
  });

  it('keeps the hub routes: /healthz and /v1/* are the hub\u2019s', async () => {
    expect(JSON.parse((await fetchRaw(hub.port, '/healthz')).body)).toMatchObject({ status: 'ok' });
    const r = await fetchRaw(hub.port, '/v1/nothing-here');
    expect(r.status).toBe(404);
    expect(r.headers['content-type']).toContain('application/json');
  });

  it('an unknown /v1/ path gets the hub\u2019s JSON 404 while / serves the app, on the listener startHub made', async () => {
    const unknown = await fetchRaw(hub.port, '/v1/rooms/x/nothing');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ type: 'error', code: 'not-found', message: 'no route GET /v1/rooms/x/nothing' });
    const app = await fetchRaw(hub.port, '/');
    expect(app).toMatchObject({ status: 200, body: '<!doctype html><title>app</title>' });
    // The fallback is an option of startHub: its one request listener stays in place.
    expect(hub.server.listenerCount('request')).toBe(1);
  });

  it.each([
    ['a missing asset', '/assets/index-old999.js', 404],
    ['a missing file with an extension', '/favicon.ico', 404],
    // URL parsing resolves these dot segments first: they land inside the root (no such file).
    ['an encoded ../ (resolved by URL parsing)', '/%2e%2e/secret.txt', 404],
    ['a raw ../ (resolved by URL parsing)', '/../secret.txt', 404],
    // Only decoding reveals this one: refused as outside the root.
    ['an encoded slash after ..', '/..%2fsecret.txt', 403],
    ['a deeper walk with encoded slashes', '/..%2f..%2f..%2fetc%2fpasswd', 403],
    ['a NUL byte', '/index.html%00.js', 400],
    ['a broken escape', '/%E0%A4%A', 400],
  ])('refuses %s (%s → %d)', async (_name, path, status) => {
    const r = await fetchRaw(hub.port, path);
    expect(r.status).toBe(status);
    expect(r.body).not.toContain('not for you');
  });

  it('HEAD gets the headers without a body; other methods get 405', async () => {
    const head = await fetchRaw(hub.port, '/assets/index-abc123.js', 'HEAD');
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers['content-length']).toBe('14');
    const post = await fetchRaw(hub.port, '/', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('without a fallback, startHub answers / with its JSON 404', async () => {
    const r = await fetchRaw(plain.port, '/');
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body)).toMatchObject({ type: 'error', code: 'not-found' });
  });

  it('a fallback that throws gets a JSON 500 and the hub keeps serving', async () => {
    const r = await fetchRaw(throwing.port, '/');
    expect(r.status).toBe(500);
    expect(JSON.parse(r.body)).toMatchObject({ type: 'error', code: 'internal' });
    expect((await fetchRaw(throwing.port, '/healthz')).status).toBe(200);
  });

  it('without a build, / says how to make one (and the hub still works)', async () => {
    const r = await fetchRaw(bare.port, '/');
    expect(r.status).toBe(503);
    expect(r.body).toContain('npm run build');
    expect((await fetchRaw(bare.port, '/healthz')).status).toBe(200);
  });
});
