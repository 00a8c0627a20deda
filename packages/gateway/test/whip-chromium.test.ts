/**
 * A third-party WHIP client in a real browser: Chromium publishes its fake camera and
 * microphone with `@eyevinn/whip-web-client` from a page of another origin (CORS, preflight,
 * the ICE servers fetched with OPTIONS), through the real hub + gateway + SFU;
 * a room subscriber receives its video and audio; the client's DELETE ends the session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, type Harness } from '@pinhole/test-kit/browser';
import { subscribeSession } from '@pinhole/test-kit/media-peer';
import { until } from '@pinhole/test-kit/wait';
import { startWhipServer, type WhipServer } from './support.js';

describe('Chromium publishing with @eyevinn/whip-web-client', () => {
  let server: WhipServer;
  let harness: Harness;
  beforeAll(async () => {
    server = await startWhipServer();
    harness = await openHarness(new URL('./browser/whip-entry.ts', import.meta.url));
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
    await server?.close();
  });

  it('publishes; a subscriber in the room receives its audio and video; destroy() DELETEs the session', async () => {
    const token = await server.token('studio', ['publish'], 'browser-studio');
    const requests: string[] = [];
    server.hub.server.on('request', (req: { method?: string; url?: string }) => requests.push(`${req.method} ${req.url?.split('/')[2]}`));
    const location = await harness.page.evaluate(([e, t]) => (window as never as { whip: { publish(e: string, t: string): Promise<string> } }).whip.publish(e!, t!), [
      server.endpoint('studio'),
      token,
    ]);
    expect(location).toMatch(/\/v1\/resources\/[A-Za-z0-9_-]+$/);
    const id = location.split('/').pop()!;
    await until(() => server.gateway.stats().sessions === 1, 10_000, 'the WHIP session');

    const room = server.sfu.room('studio');
    const peer = await subscribeSession(room, 'viewer', id);
    try {
      // Two streams (Opus and VP8), each with its own SSRC at the subscriber, both flowing.
      await until(() => peer.received.size === 2 && [...peer.received.values()].every((n) => n >= 50), 20_000, 'audio and video at the subscriber');
      const sent = await harness.page.evaluate(() => (window as never as { whip: { sent(): Promise<{ state: string; frames: number }> } }).whip.sent());
      expect(sent.state).toBe('connected');
      expect(sent.frames).toBeGreaterThan(10);

      await harness.page.evaluate(() => (window as never as { whip: { stop(): Promise<void> } }).whip.stop());
      await until(() => server.gateway.stats().ended.deleted === 1, 10_000, 'the DELETE');
      // The subscriber's session stays while it is in the room, and goes when it leaves.
      expect(server.sfu.counts()).toEqual({ rooms: 1, publishers: 0, subscribers: 1 });
      server.sfu.leave('studio', 'viewer');
      expect(server.sfu.counts()).toEqual({ rooms: 0, publishers: 0, subscribers: 0 });
      // The client's whole conversation: preflight and ICE servers, offer, the resource's preflight, end.
      // (It waits for ICE gathering, which completes at once on loopback: nothing left to PATCH.)
      expect(new Set(requests)).toEqual(new Set(['OPTIONS whip', 'POST whip', 'OPTIONS resources', 'DELETE resources']));
    } finally {
      peer.close();
    }
  }, 60_000);
});
