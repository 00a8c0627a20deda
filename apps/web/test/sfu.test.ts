/**
 * The web app through the embedded SFU, in real Chromium against the real `pinhole serve`
 * (own hub and browser for the file): a thumbnail (Speaker view) gets the low simulcast
 * layer, and the grid a higher one.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupDirs, freshCast, join, launchChromium, startHub, waitForVideoFrom, type Cast, type Hub, type Participant } from './support.js';

let hub: Hub;
let browser: Browser;

/** Until video plays on every page of a new call, or media shows a change. */
const MEDIA_TIMEOUT = 120_000;

beforeAll(async () => {
  [hub, browser] = await Promise.all([startHub(), launchChromium()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  cleanupDirs();
});

/**
 * Joins `people` one by one, in this order, each once everyone before plays everyone else's
 * video. (Not in `cast.people`'s order: that is the order their pages opened, which
 * `Promise.all` of `cast.add` does not fix — with Bob's page first, Alice alone waited for
 * Bob, who had not joined, to show her video.)
 */
async function joinAll(cast: Cast, people: Participant[]): Promise<void> {
  for (const p of people) {
    await join(p, hub, cast.room);
    const here = people.slice(0, people.indexOf(p) + 1);
    await Promise.all(here.map((q) => waitForVideoFrom(q, here.filter((o) => o !== q).map((o) => o.name), MEDIA_TIMEOUT)));
  }
}

describe('the web app through the SFU', () => {
  it('a thumbnail in Speaker view gets the low layer (q, ¼ of the camera); back in the grid the layer rises', async () => {
    const cast = freshCast(browser, 'thumbs');
    const people = await Promise.all(['Alice', 'Bob', 'Carol'].map((name) => cast.add(name)));
    const [alice, , carol] = people as [Participant, Participant, Participant];
    await joinAll(cast, people);
    // Only Bob speaks: he stays the active speaker, shown large; Carol is a thumbnail on Alice's page.
    await alice.page.click('[data-action=mic]');
    await carol.page.click('[data-action=mic]');
    await alice.page.waitForSelector('.tile[data-name=Bob].featured', { timeout: MEDIA_TIMEOUT });

    await alice.page.click('[data-action=layout]');
    const switched = Date.now();
    const thumbs = await waitForTiles(alice.page, (tiles) => tiles.length > 0 && tiles.every((t) => t.width === 160 && /^via SFU · q /.test(t.badge) && t.frameWidth === 160 && t.videoWidth === 160), MEDIA_TIMEOUT);
    const toLow = Date.now() - switched;
    expect(thumbs.map((t) => t.name)).toEqual(['Carol']);
    expect(toLow).toBeLessThan(15_000);

    await alice.page.click('[data-action=layout]');
    const back = Date.now();
    const grid = await withSentLayers(people, () => waitForTiles(
      alice.page,
      (tiles) => tiles.length === 2 && tiles.every((t) => t.width > 240 && t.badge.startsWith(`via SFU · ${t.width <= 480 ? 'h' : 'f'} `) && t.frameWidth === (t.width <= 480 ? 320 : 640)),
      MEDIA_TIMEOUT,
      false,
    ));
    const toHigh = Date.now() - back;
    console.log(`thumbnail: ${JSON.stringify(thumbs)} after ${toLow} ms; grid: ${JSON.stringify(grid)} after ${toHigh} ms`);
  }, 240_000);
});

/** Runs `wait`; if it fails, says which simulcast layers each page sends (outbound-rtp by rid). */
async function withSentLayers<T>(people: Participant[], wait: () => Promise<T>): Promise<T> {
  try {
    return await wait();
  } catch (err) {
    const sent = await Promise.all(
      people.map((p) =>
        p.page.evaluate(async () => {
          const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.filter((pc) => pc.connectionState === 'connected');
          const stats = (await Promise.all(pcs.map(async (pc) => [...(await pc.getStats()).values()] as Record<string, unknown>[]))).flat();
          return stats
            .filter((s) => s['type'] === 'outbound-rtp' && s['kind'] === 'video' && s['rid'])
            .map((s) => `${String(s['rid'])}:${String(s['frameWidth'] ?? '-')}:${Math.round(Number(s['bytesSent'] ?? 0) / 1000)}kB:${String(s['qualityLimitationReason'])}:${String(s['active'])}`)
            .join(' ');
        }),
      ),
    );
    throw new Error(`${(err as Error).message}; layers sent: ${people.map((p, i) => `${p.name} ${sent[i]}`).join(' | ')}`);
  }
}

interface TileView {
  name: string;
  /** The video's rendered width (CSS px; the device pixel ratio is 1). */
  width: number;
  badge: string;
  /** The <video>'s decoded size, and frameWidth of its track's inbound-rtp. */
  videoWidth: number;
  frameWidth: number;
}

/** Polls the remote tiles (only the thumbnails, unless `thumbnailsOnly` is false) until `ok` holds. */
async function waitForTiles(page: Page, ok: (tiles: TileView[]) => boolean, timeout: number, thumbnailsOnly = true): Promise<TileView[]> {
  const deadline = Date.now() + timeout;
  let last: TileView[] = [];
  while (Date.now() < deadline) {
    last = await page.evaluate(async (thumbnails) => {
      const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.filter((pc) => pc.connectionState === 'connected');
      const inbound = (await Promise.all(pcs.map(async (pc) => [...(await pc.getStats()).values()] as Record<string, unknown>[]))).flat().filter((s) => s['type'] === 'inbound-rtp' && s['kind'] === 'video');
      const tiles = [...document.querySelectorAll<HTMLElement>(`.tile:not([data-local])${thumbnails ? ':not(.featured)' : ''}`)];
      return tiles.map((t) => {
        const video = t.querySelector('video')!;
        const track = (video.srcObject as MediaStream | null)?.getVideoTracks()[0];
        const stats = inbound.find((s) => s['trackIdentifier'] === track?.id);
        return {
          name: t.dataset['name'] ?? '',
          width: video.clientWidth,
          badge: t.querySelector('.badge')?.textContent ?? '',
          videoWidth: video.videoWidth,
          frameWidth: (stats?.['frameWidth'] as number | undefined) ?? 0,
        };
      });
    }, thumbnailsOnly);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`tiles never matched: ${JSON.stringify(last)}`);
}
