/**
 * The meeting app in real Chromium (fake camera, microphone and screen) against the real
 * `pinhole serve`: 2 and 3 people see and hear each other, chat, send a file, share a
 * screen. One hub and one browser for the file; each person is a browser context.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupDirs,
  join,
  launchChromium,
  newParticipant,
  screenshotOnFailure,
  startHub,
  waitForStats,
  waitForVideoFrom,
  type Hub,
  type Participant,
} from './support.js';

let hub: Hub;
let browser: Browser;
const people: Participant[] = [];
const ROOM = 'e2e-call';

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
    screenshotOnFailure('two-participants', () => people);
    const [alice, bob] = await Promise.all([newParticipant(browser, 'Alice'), newParticipant(browser, 'Bob')]);
    people.push(alice!, bob!);
    await join(alice!, hub, ROOM);
    await join(bob!, hub, ROOM);
    await Promise.all([waitForVideoFrom(alice!, ['Bob']), waitForVideoFrom(bob!, ['Alice'])]);
    for (const p of [alice!, bob!]) {
      const stats = await waitForStats(p.page, (s) => s.length === 1 && s.every((x) => x.framesDecoded > 0));
      expect(stats[0]!.framesDecoded).toBeGreaterThan(0);
    }
    expect(await alice!.page.$$eval('.people li', (li) => li.map((l) => l.dataset['name']))).toEqual(['Alice', 'Bob']);
    expect(await bob!.page.$$eval('.people li', (li) => li.map((l) => l.dataset['name']))).toEqual(['Bob', 'Alice']);

    await alice!.page.click('[data-action=mic]');
    await bob!.page.waitForSelector('.tile[data-name=Alice][data-mic=off] .mic-off:not([hidden])');
    expect(await bob!.page.getAttribute('.tile[data-name=Alice]', 'aria-label')).toContain('microphone off');
    await alice!.page.click('[data-action=mic]');
    await bob!.page.waitForSelector('.tile[data-name=Alice][data-mic=on]');
  }, 60_000);
});
