/**
 * The watch page, /watch/<room>, in real Chromium against the real `pinhole serve`: it waits
 * while the room has no video, then plays the room's WHIP stream over WHEP — decoded frames,
 * no getUserMedia — shows how many watch, the call page shows "1 watching" too, and leaving
 * the page DELETEs the WHEP session (the count is back to 0 at once, not after ICE consent
 * runs out).
 *
 * When the stream ends the page says so, and plays the next one.
 *
 * In a mesh call participants send no media to the SFU, so the stream comes from another
 * Chromium page publishing its fake camera and microphone over WHIP (plain WebRTC + fetch).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupDirs, freshCast, join, launchChromium, startHub, waitForStats, type Hub } from './support.js';

let hub: Hub;
let browser: Browser;

beforeAll(async () => {
  [hub, browser] = await Promise.all([startHub(), launchChromium()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  cleanupDirs();
});

/** Counts every camera, microphone or screen request a page makes, in `window.__mediaRequests`. */
const COUNT_MEDIA_REQUESTS = `
  window.__mediaRequests = 0;
  for (const name of ['getUserMedia', 'getDisplayMedia']) {
    const native = navigator.mediaDevices && navigator.mediaDevices[name];
    if (native) navigator.mediaDevices[name] = function (...args) { window.__mediaRequests++; return native.apply(this, args); };
  }
`;

/** Publishes the page's fake camera and microphone over WHIP to `room` (dev mode: no token); resolves with the session's Location. */
function publishOverWhip(page: Page, room: string, name?: string): Promise<string> {
  return page.evaluate(async ([room, name]) => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    const pc = new RTCPeerConnection();
    (window as unknown as { __whip: RTCPeerConnection }).__whip = pc;
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    });
    const query = name ? `?name=${encodeURIComponent(name)}` : '';
    const res = await fetch(`/v1/whip/${room}${query}`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
    if (res.status !== 201) throw new Error(`WHIP POST ${res.status}: ${await res.text()}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    return res.headers.get('location')!;
  }, [room, name] as const);
}

/** A sample of the hub's /metrics (read through `page`, which trusts the self-signed certificate). */
async function metric(page: Page, name: string): Promise<number> {
  const text = await page.evaluate(() => fetch('/metrics').then((r) => r.text()));
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

describe('the watch page', () => {
  it('waits for video, plays the room over WHEP without asking for camera or microphone, counts the viewer on both pages, follows the stream ending and coming back, and DELETEs its session on leaving', async () => {
    const cast = freshCast(browser, 'watch');
    const [alice, studio, viewer] = await Promise.all([cast.add('Alice'), cast.add('Studio'), cast.add('Viewer')]);
    await join(alice!, hub, cast.room);
    // The call page offers the watch link next to the join link.
    await alice!.page.click('[data-tab=invite]');
    expect(await alice!.page.inputValue('.share input[aria-label="Watch link"]')).toBe(`${hub.url}/watch/${cast.room}`);
    expect(await alice!.page.textContent('[data-action=copy-watch]')).toBe('Share watch link');

    await viewer!.context.addInitScript(COUNT_MEDIA_REQUESTS);
    await viewer!.page.goto(`${hub.url}/watch/${cast.room}`);
    // Nobody publishes to the SFU yet (a mesh call sends it nothing): the page waits.
    await viewer!.page.waitForSelector('.watch-state[data-state=waiting]', { timeout: 30_000 });

    await studio!.page.goto(`${hub.url}/healthz`);
    const location = await publishOverWhip(studio!.page, cast.room);
    expect(location).toMatch(/^\/v1\/resources\//);

    // The page's next look finds video and plays it.
    await viewer!.page.waitForSelector('.watch-state[data-state=playing]', { timeout: 60_000 });
    const [stats] = await waitForStats(viewer!.page, (s) => s.length === 1 && s[0]!.framesDecoded > 0, 60_000);
    expect(stats!.framesDecoded).toBeGreaterThan(0);
    expect(await viewer!.page.$eval('.watch-video', (v) => (v as HTMLVideoElement).videoWidth)).toBeGreaterThan(0);
    expect(await viewer!.page.evaluate(() => (window as unknown as { __mediaRequests: number }).__mediaRequests)).toBe(0);
    await viewer!.page.waitForSelector('.watching[data-count="1"]', { timeout: 15_000 });
    expect(await viewer!.page.textContent('.watching')).toBe('1 watching');
    expect(await viewer!.page.getAttribute('.join-call', 'href')).toBe(`/r/${cast.room}`);

    // The call sees that someone watches (pinhole:sfu-viewers from the SFU service).
    await alice!.page.waitForSelector('.call-header .watching[data-count="1"]:not([hidden])', { timeout: 15_000 });
    expect(await alice!.page.textContent('.call-header .watching')).toBe('1 watching');
    const viewers = `pinhole_gateway_viewers{room="${cast.room}"}`;
    expect(await metric(studio!.page, viewers)).toBe(1);

    // The stream ends (its publisher DELETEs it): the page says so and waits; it plays the next one.
    await studio!.page.evaluate(async (location) => {
      (window as unknown as { __whip: RTCPeerConnection }).__whip.close();
      await fetch(location, { method: 'DELETE' });
    }, location);
    await viewer!.page.waitForSelector('.watch-state[data-state=ended]', { timeout: 30_000 });
    await alice!.page.waitForSelector('.call-header .watching[data-count="0"][hidden]', { state: 'attached', timeout: 15_000 });
    await publishOverWhip(studio!.page, cast.room);
    await viewer!.page.waitForSelector('.watch-state[data-state=playing]', { timeout: 60_000 });
    await alice!.page.waitForSelector('.call-header .watching[data-count="1"]:not([hidden])', { timeout: 15_000 });
    expect(await metric(studio!.page, viewers)).toBe(1);

    // Leaving the page DELETEs the session and closes its connection: the count drops at once
    // (ICE consent would take ~30 s). Whichever reaches the gateway first ends the session — the
    // keepalive DELETE, or the DTLS close of pc.close() (`media-ended`), a race the page can't
    // order while it unloads — so the test checks that the gateway got the DELETE (answered, or
    // refused `not-found` when the close won) and that one session ended.
    const count = (reason: string) => metric(studio!.page, `pinhole_gateway_sessions_ended_total{reason="${reason}"}`);
    const deletesArrived = async () => (await count('deleted')) + (await metric(studio!.page, 'pinhole_gateway_refused_total{code="not-found"}'));
    const ended = async () => (await count('deleted')) + (await count('media-ended'));
    const [deletesBefore, endedBefore] = [await deletesArrived(), await ended()];
    const left = Date.now();
    await viewer!.page.goto('about:blank');
    await alice!.page.waitForSelector('.call-header .watching[data-count="0"][hidden]', { state: 'attached', timeout: 15_000 });
    expect(Date.now() - left).toBeLessThan(15_000);
    expect(await metric(studio!.page, viewers)).toBe(0);
    expect(await ended()).toBe(endedBefore + 1);
    await expect.poll(deletesArrived, { timeout: 10_000 }).toBe(deletesBefore + 1);
  }, 240_000);

  it('a WHIP stream is a tile in the call, named by ?name=, its video playing; it goes when the stream is deleted', async () => {
    const cast = freshCast(browser, 'whip-tile');
    const [alice, bob, studio] = await Promise.all([cast.add('Alice'), cast.add('Bob'), cast.add('Studio')]);
    await join(alice!, hub, cast.room);
    await join(bob!, hub, cast.room);
    await studio!.page.goto(`${hub.url}/healthz`);
    const location = await publishOverWhip(studio!.page, cast.room, 'Studio cam');
    for (const p of [alice!, bob!]) {
      const tile = '.tile[data-name="Studio cam"]';
      await p.page.waitForSelector(tile, { timeout: 60_000 });
      await p.page.waitForFunction((sel) => ((document.querySelector(`${sel} video`) as HTMLVideoElement | null)?.videoWidth ?? 0) > 0, tile, { timeout: 60_000 });
      expect(await p.page.textContent(`${tile} .badge`)).toBe('WHIP stream');
      // Not a member: no one to chat with or send files to, and not counted as here.
      expect(await p.page.textContent('.call-header .count')).toBe('2 here');
    }
    await studio!.page.evaluate(async (location) => {
      (window as unknown as { __whip: RTCPeerConnection }).__whip.close();
      await fetch(location, { method: 'DELETE' });
    }, location);
    for (const p of [alice!, bob!]) await p.page.waitForSelector('.tile[data-name="Studio cam"]', { state: 'detached', timeout: 30_000 });
  }, 180_000);
});
