/**
 * Congestion feedback with real Chromium on loopback: a publisher page without any start-bitrate
 * hint climbs to all three simulcast layers on the SFU's REMB alone; a subscriber that reports
 * a low bandwidth estimate (REMB 100 kbit/s, from a node-datachannel peer so the value is the
 * test's, not a browser's own estimate) gets the lowest layer although it asked for "f", and
 * climbs back to "f" after the hold once it reports 5 Mbit/s.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribeSession, type SessionPeer } from '@pinhole/test-kit/media-peer';
import { Sfu, UP_HOLD_MS } from '../src/index.js';
import { launchChromium, openPage, type TestPage } from './support/pages.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function until<T>(read: () => Promise<T> | T, ok: (v: T) => boolean, what: string, ms = 20_000): Promise<T> {
  const started = Date.now();
  let last: T = await read();
  while (!ok(last)) {
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await read();
  }
  return last;
}

interface Outbound {
  rid?: string;
  frames?: number;
  active?: boolean;
  width?: number;
  available?: number;
}

/** Video bytes the peer received per second over `ms`. */
async function videoRate(peer: SessionPeer, ssrc: number, ms: number): Promise<number> {
  const before = peer.bytes.get(ssrc) ?? 0;
  await new Promise((r) => setTimeout(r, ms));
  return (((peer.bytes.get(ssrc) ?? 0) - before) * 8 * 1000) / ms;
}

describe('REMB through the SFU with Chromium', () => {
  it('raises a publisher with no start-bitrate hint to all three layers, and caps a subscriber by the REMB it sends', async () => {
    const sfu = new Sfu();
    const room = sfu.room('remb');
    const publisher: TestPage = await openPage(browser, 'publisher');
    let peer: SessionPeer | undefined;
    let rembTimer: NodeJS.Timeout | undefined;
    try {
      await publisher.call('sfuTest.bitrateHint = false');
      const offer = await publisher.call<string>('sfuTest.publishOffer(true)');
      const answer = await room.publish('alice', offer);
      expect(answer).toMatch(/a=rtcp-fb:\d+ goog-remb/);
      expect(answer).not.toMatch(/transport-wide-cc/);
      await publisher.call(`sfuTest.acceptAnswer(${JSON.stringify(answer)})`);
      const started = Date.now();

      // Chromium starts at 300 kbit/s (only "q"); the SFU's REMB raises it until "f" is encoded.
      const outbound = (): Promise<Outbound[]> => publisher.call<Outbound[]>('sfuTest.outbound()');
      const layer = (out: Outbound[], rid: string): Outbound | undefined => out.find((o) => o.rid === rid);
      const allThree = await until(outbound, (out) => ['q', 'h', 'f'].every((rid) => (layer(out, rid)?.frames ?? 0) > 0), 'the publisher to encode q, h and f', 15_000);
      const climbed = Date.now() - started;
      expect(layer(allThree, 'f')?.active).toBe(true);
      const later = await until(outbound, (out) => (layer(out, 'f')?.frames ?? 0) > layer(allThree, 'f')!.frames! + 30, '"f" to keep being encoded');
      const available = later.find((o) => o.available !== undefined)?.available ?? 0;
      expect(available).toBeGreaterThan(1_000_000);
      expect(available).toBeLessThanOrEqual(3_000_000); // the default maxPublisherBitrate

      // A subscriber that asks for "f" but reports 100 kbit/s gets "q". Its session carries one
      // video section, so that section gets the whole estimate.
      peer = await subscribeSession(room, 'bob', 'alice', { layer: 'f' });
      const p = peer;
      await until(() => p.received.size, (n) => n >= 2, "bob's audio and video");
      let remb = 100_000;
      rembTimer = setInterval(() => p.sendRemb(remb), 500);
      const low = await until(() => room.layers('bob', 'alice')[0], (l) => l?.current === 'q', 'bob on "q" under a 100 kbit/s REMB', 10_000);
      expect(low).toMatchObject({ target: 'q' });
      expect(sfu.layerSwitchesByBandwidth()).toBeGreaterThanOrEqual(1);
      const videoSsrc = [...p.bytes.entries()].sort((a, b) => b[1] - a[1])[0]![0];
      const lowRate = await videoRate(p, videoSsrc, 3000);
      // Still "q" after those seconds: 100 kbit/s leaves no headroom for "h" (not even 1.4 × q's rate).
      expect(room.layers('bob', 'alice')[0]).toMatchObject({ current: 'q', target: 'q' });

      // Lifted: "f" again, after the hold.
      remb = 5_000_000;
      const lifted = Date.now();
      const high = await until(() => room.layers('bob', 'alice')[0], (l) => l?.current === 'f', 'bob back on "f" under a 5 Mbit/s REMB', UP_HOLD_MS + 10_000);
      const waited = Date.now() - lifted;
      expect(waited).toBeGreaterThanOrEqual(UP_HOLD_MS - 1000);
      expect(high).toMatchObject({ target: 'f' });
      const highRate = await videoRate(p, videoSsrc, 3000);
      expect(highRate).toBeGreaterThan(2 * lowRate);
      console.log(
        `publisher: q, h and f encoded ${climbed} ms after the answer (available ${Math.round(available / 1000)} kbit/s); ` +
          `subscriber: ${Math.round(lowRate / 1000)} kbit/s on "q" under REMB 100 kbit/s, ${Math.round(highRate / 1000)} kbit/s on "f" ${waited} ms after REMB 5 Mbit/s`,
      );
    } finally {
      clearInterval(rembTimer);
      peer?.close();
      sfu.leave('remb', 'bob');
      sfu.leave('remb', 'alice');
      await publisher.page.context().close();
    }
    expect(sfu.counts()).toEqual({ rooms: 0, publishers: 0, subscribers: 0 });
    sfu.close();
  }, 120_000);
});
