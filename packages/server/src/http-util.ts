import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProtocolError, httpStatusOf } from '@pinhole/protocol';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answers an HTTP request with an error frame as its body and the matching status. */
export function sendProtocolError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const e = err instanceof ProtocolError ? err : new ProtocolError('internal', 'internal error');
  sendJson(res, httpStatusOf(e.code), e.toFrame());
}

/** Reads a request body up to `limit` bytes; throws `too-large` beyond it. */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(new ProtocolError('too-large', `body of ${declared} bytes exceeds the limit of ${limit}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(new ProtocolError('too-large', `body exceeds the limit of ${limit} bytes`));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    // A small body comes in one chunk: decode it without copying it first.
    req.on('end', () => resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString()));
    req.on('error', reject);
  });
}

/** Parses a non-negative integer query parameter; undefined when absent. */
export function seqParam(value: string | null, name: string): number | undefined {
  if (value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new ProtocolError('bad-frame', `"${name}" must be a non-negative integer`);
  return n;
}
