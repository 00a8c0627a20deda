/** Small HTTP pieces of the gateway: bodies, error answers, CORS and ICE-server Link headers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IceServer } from '@pinhole/protocol';
import { GatewayError } from './errors.js';

/** Reads a body of at most `limit` bytes as text; 413 beyond it. */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  if (Number(req.headers['content-length']) > limit) return Promise.reject(new GatewayError(413, 'too-large', `body exceeds ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new GatewayError(413, 'too-large', `body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}

/** The media type of a request without its parameters, lower-cased. */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

export function sendError(res: ServerResponse, err: unknown, cors: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const e = err instanceof GatewayError ? err : new GatewayError(500, 'internal', 'internal error');
  const body = JSON.stringify({ type: 'error', code: e.code, message: e.message });
  res.writeHead(e.status, { ...cors, ...e.headers, 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export const ALLOWED_METHODS = 'OPTIONS, POST, PATCH, DELETE';

/**
 * CORS headers for a browser client (WHIP/WHEP players run in pages of other origins).
 * `allowed` empty: any origin. Throws 403 for an origin not on the list.
 */
export function corsHeaders(req: IncomingMessage, allowed: readonly string[]): Record<string, string> {
  const origin = req.headers.origin;
  if (origin === undefined) return {};
  if (allowed.length > 0 && !allowed.includes(origin)) throw new GatewayError(403, 'origin-not-allowed', `origin ${origin} is not allowed`);
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': ALLOWED_METHODS,
    'access-control-allow-headers': 'Authorization, Content-Type, If-Match',
    'access-control-expose-headers': 'Location, ETag, Link, Accept-Patch, Retry-After',
    vary: 'Origin',
  };
}

const quoted = (s: string): string => `"${s.replace(/["\\]/g, '\\$&')}"`;

/** ICE servers as RFC 9725 §4.6 Link headers: one per URL, TURN credentials as parameters. */
export function iceServerLinks(servers: readonly IceServer[]): string[] {
  const links: string[] = [];
  for (const server of servers) {
    const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
    for (const url of urls) {
      let link = `<${url}>; rel="ice-server"`;
      if (server.username !== undefined && server.credential !== undefined) {
        link += `; username=${quoted(server.username)}; credential=${quoted(server.credential)}; credential-type="password"`;
      }
      links.push(link);
    }
  }
  return links;
}
