/**
 * Third-party clients at both ends in a real browser: one Chromium page publishes its fake
 * camera and microphone with `@eyevinn/whip-web-client`, another page plays the room over WHEP
 * with `@eyevinn/webrtc-player`, both from a page of another origin (CORS), through the real
 * hub + gateway + SFU. The player's getStats must show decoded video frames of real size.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openHarness, type Harness } from '@pinhole/test-kit/browser';
import { until } from '@pinhole/test-kit/wait';
import { startWhipServer, type WhipServer } from './support.js';

interface Received {
  state: string;
  framesDecoded: number;
  width: number;
  packets: number;
  audioPackets: number;
}

const received = (page: Page): Promise<Received> => page.evaluate(() => (window as never as { whep: { received(): Promise<Received> } }).whep.received());

describe('Chromium playing over WHEP with @eyevinn/webrtc-player', () => {
  let server: WhipServer;
  let harness: Harness;
  let viewerPage: Page;
  beforeAll(async () => {
    server = await startWhipServer();
    harness = await openHarness(new URL('./browser/whep-entry.ts', import.meta.url));
    viewerPage = await harness.browser.newPage();
    viewerPage.on('console', (m) => {
      if (m.type() === 'error') console.error(`[viewer] ${m.text()}`);
    });
    await viewerPage.goto(harness.server.url);
    await viewerPage.waitForFunction('document.readyState === "complete" && "whep" in window');
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
    await server?.close();
  });

  it("decodes the WHIP publisher's video (framesDecoded > 30, width > 0) and hears its audio; unload() DELETEs the session", async () => {
    const location = await harness.page.evaluate(([e, t]) => (window as never as { whip: { publish(e: string, t: string): Promise<string> } }).whip.publish(e!, t!), [
      server.endpoint('studio'),
      await server.token('studio', ['publish'], 'browser-studio'),
    ]);
    const publisher = location.split('/').pop()!;
    const token = await server.token('studio', ['join'], 'browser-viewer');
    // The room's featured publisher: the only one.
    await viewerPage.evaluate(([e, t]) => (window as never as { whep: { play(e: string, t: string): Promise<void> } }).whep.play(e!, t!), [server.whep('studio'), token]);
    await until(() => server.gateway.viewerCount('studio') === 1, 15_000, 'the WHEP session');
    expect(server.sfu.room('studio').viewerCount(publisher)).toBe(1);

    let last = await received(viewerPage);
    const started = Date.now();
    while (!(last.framesDecoded > 30 && last.width > 0 && last.audioPackets > 50)) {
      if (Date.now() - started > 30_000) throw new Error(`no decoded video and audio at the WHEP player: ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 250));
      last = await received(viewerPage);
    }
    console.log(`WHEP player: ${JSON.stringify(last)} after ${Date.now() - started} ms`);
    expect(last.state).toBe('connected');
    expect(last.width).toBe(640);

    await viewerPage.evaluate(() => (window as never as { whep: { stop(): Promise<void> } }).whep.stop());
    await until(() => server.gateway.viewerCount('studio') === 0, 10_000, "the player's DELETE");
    expect(server.gateway.stats().ended.deleted).toBe(1);
    await harness.page.evaluate(() => (window as never as { whip: { stop(): Promise<void> } }).whip.stop());
    await until(() => server.sfu.counts().rooms === 0, 10_000, 'the room to empty');
    expect(server.sfu.counts()).toEqual({ rooms: 0, publishers: 0, subscribers: 0 });
  }, 90_000);
});
