import { afterEach, describe, expect, it } from 'vitest';
import type { RunningHub } from '../src/index.js';
import { testCores } from './support/hub.js';

const ORIGIN = 'https://app.example';

const cores = testCores();

describe.each(cores)('$name core', (core) => {
  let hub: RunningHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  /** A session opened over POST, as a browser page on ORIGIN would. */
  async function session(): Promise<string> {
    const res = await fetch(`${hub!.url}/v1/send`, { method: 'POST', body: '{"type":"hello"}', headers: { origin: ORIGIN } });
    const welcome = (await res.json()) as { session: string; key: string };
    return `session=${encodeURIComponent(welcome.session)}&key=${encodeURIComponent(welcome.key)}`;
  }

  // The router sets the CORS headers once per request; the stream answers must keep them.
  describe('CORS on the receiving side', () => {
    it('a long-poll answer carries the allowed origin, with the frames', async () => {
      hub = await core.start({ allowedOrigins: [ORIGIN] });
      const q = await session();
      await fetch(`${hub.url}/v1/send?${q}`, { method: 'POST', body: '{"type":"join","room":"r","id":1}', headers: { origin: ORIGIN } });
      const res = await fetch(`${hub.url}/v1/poll?${q}&ack=0`, { headers: { origin: ORIGIN } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(res.headers.get('vary')).toBe('Origin');
      // A page may read the header that reports lastId (§2.3).
      expect(res.headers.get('access-control-expose-headers')).toBe('pinhole-last-id');
      expect(res.headers.get('pinhole-last-id')).toBe('1');
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toMatchObject([{ type: 'joined', seq: 1, room: 'r', ref: 1 }]);
    });

    it('an SSE stream carries the allowed origin', async () => {
      hub = await core.start({ allowedOrigins: [ORIGIN] });
      const q = await session();
      const controller = new AbortController();
      const res = await fetch(`${hub.url}/v1/sse?${q}`, { headers: { origin: ORIGIN }, signal: controller.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      controller.abort();
    });

    it('a stream from another origin is refused', async () => {
      hub = await core.start({ allowedOrigins: [ORIGIN] });
      const q = await session();
      for (const path of ['sse', 'poll']) {
        const res = await fetch(`${hub.url}/v1/${path}?${q}`, { headers: { origin: 'https://evil.example' } });
        expect(res.status).toBe(403);
        expect(await res.json()).toMatchObject({ code: 'origin-not-allowed' });
      }
    });
  });
});
