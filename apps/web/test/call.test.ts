/**
 * The meeting app in real Chromium (fake camera, microphone and screen) against the real
 * `pinhole serve`: 2 people (peer-to-peer) and 3 (through the embedded SFU) see and hear each other, chat, send a file, share a
 * screen. One hub and one browser for the file; each person is a browser context.
 *
 * Every test (and every retry of one) starts its own call: new people (browser contexts)
 * in a room nobody used before (`freshCast`), closed when it ends. Waits are sized for a
 * 2-core machine busy with other work, where three Chromium peers decode video at a crawl.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  answerOffer,
  chatLines,
  cleanupDirs,
  freshCast,
  join,
  launchChromium,
  SCREENSHOTS_DIR,
  sendChat,
  startHub,
  waitForInboundVideo,
  waitForStats,
  waitForVideoFrom,
  type Cast,
  type Hub,
  type Participant,
} from './support.js';

let hub: Hub;
let browser: Browser;

/** Until video plays on every page of a new call, or media shows a change. */
const MEDIA_TIMEOUT = 90_000;
/** A 2-person test, including its own call set-up. */
const TWO = 180_000;
/** A 3-person test. */
const THREE = 240_000;

/**
 * A call of `names` in a fresh room, joined one by one: each joins once everyone before
 * plays everyone else's video (as people arrive in a real call). Resolves when all do.
 */
async function call(cast: Cast, names: string[]): Promise<Participant[]> {
  const people = await Promise.all(names.map((name) => cast.add(name)));
  for (const [i, p] of people.entries()) {
    await join(p, hub, cast.room);
    const here = people.slice(0, i + 1);
    await Promise.all(here.map((q) => waitForVideoFrom(q, here.filter((o) => o !== q).map((o) => o.name), MEDIA_TIMEOUT)));
  }
  return people;
}

beforeAll(async () => {
  [hub, browser] = await Promise.all([startHub(), launchChromium()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  cleanupDirs();
});

describe('a call in the web app', () => {
  it('2 participants: each sees the other\u2019s video, names are listed, mute shows on the other side', async () => {
    const [alice, bob] = await call(freshCast(browser, 'two'), ['Alice', 'Bob']);
    for (const p of [alice!, bob!]) {
      const stats = await waitForStats(p.page, (s) => s.length === 1 && s.every((x) => x.framesDecoded > 0), MEDIA_TIMEOUT);
      expect(stats[0]!.framesDecoded).toBeGreaterThan(0);
    }
    expect(await alice!.page.$$eval('.people li', (li) => li.map((l) => l.dataset['name']))).toEqual(['Alice', 'Bob']);
    expect(await bob!.page.$$eval('.people li', (li) => li.map((l) => l.dataset['name']))).toEqual(['Bob', 'Alice']);

    await alice!.page.click('[data-action=mic]');
    await bob!.page.waitForSelector('.tile[data-name=Alice][data-mic=off] .mic-off:not([hidden])');
    expect(await bob!.page.getAttribute('.tile[data-name=Alice]', 'aria-label')).toContain('microphone off');
    await alice!.page.click('[data-action=mic]');
    await bob!.page.waitForSelector('.tile[data-name=Alice][data-mic=on]');
    await alice!.page.click('[data-action=camera]');
    await bob!.page.waitForSelector('.tile[data-name=Alice][data-camera=off] .placeholder');
    await alice!.page.click('[data-action=camera]');
    await bob!.page.waitForSelector('.tile[data-name=Alice][data-camera=on]');
    // Chromium's fake microphone beeps: the analyser sees it as speech.
    await bob!.page.waitForSelector('.tile[data-name=Alice].speaking', { state: 'attached', timeout: MEDIA_TIMEOUT });
  }, TWO);

  it('the Invite panel shows the join link and its QR code', async () => {
    const cast = freshCast(browser, 'invite');
    const alice = await cast.add('Alice');
    await join(alice, hub, cast.room);
    await alice.page.click('[data-tab=invite]');
    expect(await alice.page.inputValue('.share .link')).toBe(`${hub.url}/r/${cast.room}`);
    expect(await alice.page.getAttribute('.share .qr', 'src')).toMatch(/^data:image\/png;base64,/);
    expect(await alice.page.$eval('.share .qr', (img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(100);
  }, TWO);

  it('3 participants: everyone sees both others\u2019 video through the SFU (both on one connection, badges “via SFU”) and all names', async () => {
    const cast = freshCast(browser, 'three');
    const [alice, bob] = await call(cast, ['Alice', 'Bob']);
    const carol = await cast.add('Carol');
    // The landing page as a newcomer sees it, with the fake camera in the preview (README screenshot).
    await carol.page.goto(`${hub.url}/`);
    await carol.page.fill('#name', 'Carol');
    await carol.page.waitForFunction(() => (document.querySelector('.preview video') as HTMLVideoElement | null)?.videoWidth);
    expect(await carol.page.inputValue('#room')).toMatch(/^[a-z]+-[a-z]+-\d{3}$/);
    mkdirSync(SCREENSHOTS_DIR, { recursive: true });
    await carol.page.screenshot({ path: joinPath(SCREENSHOTS_DIR, 'landing.png') });

    await join(carol, hub, cast.room);
    await Promise.all([
      waitForVideoFrom(alice!, ['Bob', 'Carol'], MEDIA_TIMEOUT),
      waitForVideoFrom(bob!, ['Alice', 'Carol'], MEDIA_TIMEOUT),
      waitForVideoFrom(carol, ['Alice', 'Bob'], MEDIA_TIMEOUT),
    ]);
    // Three people are past meshMax (2): the video comes through the room's SFU, both others'
    // on one subscriber connection, and the badges say so.
    for (const p of cast.people) {
      const decoding = await waitForInboundVideo(p.page, (counts) => counts.some((c) => c.length === 2 && c.every((frames) => frames > 0)), MEDIA_TIMEOUT);
      expect(decoding.filter((c) => c.length === 2)).toHaveLength(1);
      await p.page.waitForFunction(() => [...document.querySelectorAll('.tile:not([data-local]) .badge')].every((b) => (b as HTMLElement).dataset['kind'] === 'sfu'), undefined, { timeout: MEDIA_TIMEOUT });
      expect(await p.page.textContent('.tile:not([data-local]) .badge')).toMatch(/^via SFU · [qhf]/);
      expect(await p.page.$$eval('.people li', (li) => li.map((l) => l.dataset['name']).sort())).toEqual(['Alice', 'Bob', 'Carol']);
    }
  }, THREE);

  it('chat goes every way, each message shown once on every page', async () => {
    const people = await call(freshCast(browser, 'chat'), ['Alice', 'Bob', 'Carol']);
    const [alice, bob, carol] = people as [Participant, Participant, Participant];
    await sendChat(alice, 'Hello from Alice');
    await sendChat(bob, 'Hi Alice, Bob here');
    await sendChat(carol, 'Carol says hi too');
    const expected = (me: string) =>
      ['Alice: Hello from Alice', 'Bob: Hi Alice, Bob here', 'Carol: Carol says hi too'].map((line) => (line.startsWith(`${me}:`) ? line.replace(`${me}:`, 'You:') : line)).sort();
    for (const p of people) {
      await p.page.waitForFunction((n) => document.querySelectorAll('.messages li').length >= n, 3);
      expect((await chatLines(p)).sort()).toEqual(expected(p.name));
    }
  }, THREE);

  it('the 3-person call as it looks, with Carol muted (README screenshot)', async () => {
    const [alice, , carol] = (await call(freshCast(browser, 'screenshot'), ['Alice', 'Bob', 'Carol'])) as [Participant, Participant, Participant];
    await carol.page.click('[data-action=mic]');
    await alice.page.waitForSelector('.tile[data-name=Carol][data-mic=off]');
    expect(await alice.page.textContent('.people li[data-name=Carol] .flags')).toBe('muted');
    // Badges filled in (the report runs every 2 s) before the picture is taken.
    await alice.page.waitForFunction(() => [...document.querySelectorAll('.tile .badge')].every((b) => (b as HTMLElement).dataset['kind'] === 'sfu'), undefined, { timeout: MEDIA_TIMEOUT });
    const kinds = await alice.page.$$eval('.tile .badge', (b) => b.map((x) => (x as HTMLElement).dataset['kind']));
    expect(kinds).toEqual(['sfu', 'sfu']);
    await alice.page.screenshot({ path: joinPath(SCREENSHOTS_DIR, 'call.png') });
    await carol.page.click('[data-action=mic]');
    await alice.page.waitForSelector('.tile[data-name=Carol][data-mic=on]');
  }, THREE);

  it('a 20 MB file to one peer arrives with the same SHA-256; both progress bars reach 100 %', async () => {
    const [alice, bob, carol] = (await call(freshCast(browser, 'file'), ['Alice', 'Bob', 'Carol'])) as [Participant, Participant, Participant];
    const data = randomBytes(20 * 1024 * 1024);
    const sha256 = createHash('sha256').update(data).digest('hex');
    // From a file on disk: Chromium reads it itself, where a buffer would cross the DevTools
    // protocol as 27 MB of base64 (what took over 30 s on a loaded machine).
    const dir = mkdtempSync(joinPath(tmpdir(), 'pinhole-web-file-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(joinPath(dir, 'big.bin'), data);
    await alice.page.click('[data-tab=files]');
    const bobId = await alice.page.getAttribute('.tile[data-name=Bob]', 'data-peer');
    await alice.page.selectOption('.files select[name=to]', bobId!);
    await alice.page.setInputFiles('.files input[type=file]', joinPath(dir, 'big.bin'), { timeout: MEDIA_TIMEOUT });
    const done = '.transfer[data-state=done]';
    await bob.page.click('[data-tab=files]');
    await answerOffer(bob, 'big.bin', 'accept');
    await Promise.all([transferDone(alice.page, 'out'), transferDone(bob.page, 'in')]);
    for (const page of [alice.page, bob.page]) {
      expect(await page.$eval(`${done} progress`, (bar) => [(bar as HTMLProgressElement).value, (bar as HTMLProgressElement).max])).toEqual([data.length, data.length]);
      expect(await page.textContent(`${done} .stats`)).toMatch(/^100%/);
    }
    expect(await receivedSha256(bob.page)).toBe(sha256);
    expect(await bob.page.getAttribute(`${done} a[download]`, 'download')).toBe('big.bin');
    expect(await carol.page.$$('.transfer')).toHaveLength(0);
    expect(await carol.page.$$('.offer')).toHaveLength(0);
  }, THREE + 360_000);

  it('incoming files wait for consent: offers queue, Decline tells the sender and stores nothing, Accept delivers; an offer the sender cancels leaves the queue', async () => {
    const [alice, bob] = (await call(freshCast(browser, 'consent'), ['Alice', 'Bob'])) as [Participant, Participant];
    await alice.page.click('[data-tab=files]');
    await bob.page.click('[data-tab=files]');
    const bobId = await alice.page.getAttribute('.tile[data-name=Bob]', 'data-peer');
    await alice.page.selectOption('.files select[name=to]', bobId!);
    const bytes = (text: string) => ({ mimeType: 'text/plain', buffer: Buffer.from(text) });
    await alice.page.setInputFiles('.files input[type=file]', [
      { name: 'first.txt', ...bytes('one') },
      { name: 'second.txt', ...bytes('two') },
    ]);
    // One prompt at a time; the other waits behind it (the order of two offers is the network's).
    await bob.page.waitForSelector('.offers .offer-more');
    expect(await bob.page.textContent('.offers .offer-more')).toBe('1 more waiting');
    const shown = (await bob.page.getAttribute('.offers .offer', 'data-name'))!;
    const other = shown === 'first.txt' ? 'second.txt' : 'first.txt';
    expect(await bob.page.textContent('.offers .offer-text')).toBe(`Alice wants to send you ${shown} (3 B).`);
    await answerOffer(bob, shown, 'decline');

    const out = (name: string) => `.transfer[data-direction=out]:has(.file-name:text-is("${name}"))`;
    await alice.page.waitForSelector(`${out(shown)}[data-state=declined]`);
    expect(await alice.page.textContent(`${out(shown)} .stats`)).toBe('Declined.');
    const declined = `.transfer[data-direction=in][data-state=declined]:has(.file-name:text-is("${shown}"))`;
    expect(await bob.page.textContent(`${declined} .stats`)).toBe('You declined it.');
    expect(await bob.page.$$(`${declined} a[download], ${declined} progress`)).toHaveLength(0);

    // The queued one comes next, now alone.
    await answerOffer(bob, other, 'accept');
    const link = `.transfer[data-direction=in][data-state=done] a[download="${other}"]`;
    await bob.page.waitForSelector(link);
    expect(await bob.page.$eval(link, async (a) => (await fetch((a as HTMLAnchorElement).href)).text())).toBe(other === 'first.txt' ? 'one' : 'two');
    expect(await bob.page.$$(`.transfer[data-direction=in] a[download="${shown}"]`)).toHaveLength(0);
    expect(await bob.page.isHidden('.offers')).toBe(true);

    // The sender cancels while Bob has not answered yet: the prompt goes away by itself.
    await alice.page.setInputFiles('.files input[type=file]', { name: 'withdrawn.txt', ...bytes('never mind') });
    await bob.page.waitForSelector('.offers .offer[data-name="withdrawn.txt"]');
    await alice.page.click(`${out('withdrawn.txt')}[data-state=active] button`);
    await bob.page.waitForSelector('.offers', { state: 'hidden' });
    expect(await bob.page.$$('.transfer:has(.file-name:text-is("withdrawn.txt"))')).toHaveLength(0);
  }, TWO);

  it('files dropped on the Files panel go to everyone; a transfer cancelled midway ends on both sides', async () => {
    const [alice, bob, carol] = (await call(freshCast(browser, 'drop'), ['Alice', 'Bob', 'Carol'])) as [Participant, Participant, Participant];
    await alice.page.click('[data-tab=files]');
    await alice.page.selectOption('.files select[name=to]', '');
    await dropFile(alice.page, '.files', 'notes.txt', 'hello everyone');
    for (const p of [bob, carol]) {
      await p.page.click('[data-tab=files]');
      await answerOffer(p, 'notes.txt', 'accept');
      const row = '.transfer[data-direction=in][data-state=done]';
      await p.page.waitForSelector(`${row} a[download="notes.txt"]`);
      expect(await p.page.$eval(`${row} a[download="notes.txt"]`, async (a) => (await fetch((a as HTMLAnchorElement).href)).text())).toBe('hello everyone');
    }
    // Dropped on Carol's video: to Carol only; cancelled by the sender while it runs.
    const before = await bob.page.$$eval('.transfer', (rows) => rows.length);
    await dropFile(alice.page, '.tile[data-name=Carol]', 'big-cancel.bin', 'x', 30 * 1024 * 1024);
    await answerOffer(carol, 'big-cancel.bin', 'accept');
    await carol.page.waitForSelector('.transfer[data-direction=in][data-state=active] progress');
    await alice.page.click('.transfer[data-direction=out][data-state=active] button');
    await alice.page.waitForSelector('.transfer[data-direction=out][data-state=cancelled]');
    await carol.page.waitForSelector('.transfer[data-direction=in][data-state=cancelled]');
    expect(await carol.page.textContent('.transfer[data-state=cancelled] .stats')).toBe('Cancelled.');
    expect(await bob.page.$$eval('.transfer', (rows) => rows.length)).toBe(before);
  }, THREE);

  it('screen share replaces the outgoing video (the others receive 16:9), stopping brings the camera (4:3) back', async () => {
    const [alice, bob] = (await call(freshCast(browser, 'screen'), ['Alice', 'Bob'])) as [Participant, Participant];
    const aspect = () => bob.page.$eval('.tile[data-name=Alice] video', (v) => (v as HTMLVideoElement).videoWidth / (v as HTMLVideoElement).videoHeight);
    expect(await aspect()).toBeCloseTo(4 / 3, 1);
    await alice.page.click('[data-action=screen]');
    await bob.page.waitForSelector('.tile[data-name=Alice][data-screen=on]', { timeout: MEDIA_TIMEOUT });
    await bob.page.waitForFunction(() => {
      const v = document.querySelector('.tile[data-name=Alice] video') as HTMLVideoElement;
      return Math.abs(v.videoWidth / v.videoHeight - 16 / 9) < 0.05;
    }, undefined, { timeout: MEDIA_TIMEOUT });
    expect(await alice.page.textContent('[data-action=screen]')).toBe('Stop sharing');
    await alice.page.click('[data-action=screen]');
    await bob.page.waitForSelector('.tile[data-name=Alice][data-screen=off]', { timeout: MEDIA_TIMEOUT });
    await bob.page.waitForFunction(() => {
      const v = document.querySelector('.tile[data-name=Alice] video') as HTMLVideoElement;
      return Math.abs(v.videoWidth / v.videoHeight - 4 / 3) < 0.05;
    }, undefined, { timeout: MEDIA_TIMEOUT });
    expect(await aspect()).toBeCloseTo(4 / 3, 1);
  }, TWO);

  it('Leave: the others see the person go from the grid and the list', async () => {
    const [alice, bob, carol] = (await call(freshCast(browser, 'leave'), ['Alice', 'Bob', 'Carol'])) as [Participant, Participant, Participant];
    await carol.page.click('[data-action=leave]');
    await carol.page.waitForSelector('.left h1');
    for (const p of [alice, bob]) {
      await p.page.waitForSelector('.tile[data-name=Carol]', { state: 'detached' });
      expect(await p.page.$$eval('.people li', (li) => li.map((l) => l.dataset['name']).sort())).toEqual(['Alice', 'Bob']);
      expect(await p.page.textContent('.call-header .count')).toBe('2 here');
    }
  }, THREE);
});

/**
 * Waits until the page's transfer in `direction` is done, for as long as its progress bar
 * keeps moving: with three Chromium peers on a busy 2-core machine, 20 MB has been seen to
 * take minutes (125 kB/s, 5 s RTT), so only a transfer that stops moving for a minute fails.
 */
async function transferDone(page: Page, direction: 'in' | 'out', stall = 60_000): Promise<void> {
  const row = `.transfer[data-direction=${direction}]`;
  let last = -1;
  let moved = Date.now();
  for (;;) {
    // No row yet (the answer to the offer is on its way) counts as not moving.
    const [state, value] = await page.$$eval(row, (rows) => [(rows[0] as HTMLElement | undefined)?.dataset['state'], rows[0]?.querySelector('progress')?.value ?? 0] as const);
    if (state === 'done') return;
    if (value !== last) [last, moved] = [value, Date.now()];
    if (Date.now() - moved > stall) throw new Error(`the ${direction} transfer stopped at ${value} bytes (state ${state}) for ${stall / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** SHA-256 (hex) of the file behind the download link of the finished incoming transfer. */
function receivedSha256(page: Page): Promise<string> {
  return page.$eval('.transfer[data-state=done][data-direction=in] a[download]', async (a) => {
    const bytes = await (await fetch((a as HTMLAnchorElement).href)).arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
  });
}

/**
 * Drops a file of `text` repeated `times` (made in the page, so a big one does not cross the
 * DevTools protocol) on `selector`, as dragging it from the desktop does.
 */
async function dropFile(page: Page, selector: string, name: string, text: string, times = 1): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    ([n, t, k]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([t.repeat(k)], n, { type: 'application/octet-stream' }));
      return dt;
    },
    [name, text, times] as const,
  );
  await page.dispatchEvent(selector, 'dragover', { dataTransfer });
  await page.dispatchEvent(selector, 'drop', { dataTransfer });
}
