/**
 * The landing page and accessibility, in Chromium against the real `pinhole serve`:
 * - camera and microphone refused (Chromium's fake permission UI set to deny): the page
 *   explains it in plain words, and joining without them still shows the others;
 * - a phone-sized viewport, used with the keyboard only: join, mute, switch panels, with
 *   no sideways scrolling.
 */
import { readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupDirs,
  join,
  launchChromium,
  newParticipant,
  saveScreenshots,
  SCREENSHOTS_DIR,
  screenshotOnFailure,
  startHub,
  waitForVideoFrom,
  type Hub,
  type Participant,
} from './support.js';

let hub: Hub;
let browser: Browser;
let denying: Browser;

beforeAll(async () => {
  [hub, browser, denying] = await Promise.all([startHub(), launchChromium(), launchChromium(['--use-fake-ui-for-media-stream=deny'])]);
}, 60_000);

afterAll(async () => {
  await Promise.all([browser?.close(), denying?.close()]);
  await hub?.stop();
  cleanupDirs();
});

const noSidewaysScroll = (p: Participant): Promise<boolean> => p.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

describe('landing page', () => {
  it('explains refused camera access in plain words; joining without media still shows the others', async () => {
    const dana = await newParticipant(denying, 'Dana');
    const eve = await newParticipant(browser, 'Eve');
    screenshotOnFailure('denied', () => [dana, eve]);
    await dana.page.goto(`${hub.url}/r/denied`);
    await dana.page.waitForSelector('.media-problem:not([hidden])');
    expect(await dana.page.textContent('.media-problem strong')).toBe('Pinhole is not allowed to use your camera and microphone.');
    expect(await dana.page.textContent('.media-problem p')).toContain('allow camera and microphone');
    expect(await dana.page.textContent('.join-form button[type=submit]')).toBe('Join denied without camera or mic');

    await join(eve, hub, 'denied');
    await dana.page.fill('#name', 'Dana');
    await dana.page.click('.join-form button[type=submit]');
    await dana.page.waitForSelector('[data-banner=no-media]');
    expect(await dana.page.isDisabled('[data-action=mic]')).toBe(true);
    await waitForVideoFrom(dana, ['Eve']);
    await eve.page.waitForSelector('.tile[data-name=Dana][data-camera=off][data-mic=off]');
    await Promise.all([dana.context.close(), eve.context.close()]);
  }, 60_000);

  it('refuses an empty name or a room name with nothing usable, with a reason', async () => {
    const p = await newParticipant(browser, 'Nobody');
    screenshotOnFailure('validation', () => [p]);
    await p.page.goto(`${hub.url}/`);
    await p.page.fill('#name', '   ');
    await p.page.fill('#room', '%%%');
    await p.page.click('.join-form button[type=submit]');
    expect(await p.page.textContent('.form-error')).toContain('enter your name');
    await p.page.fill('#name', 'Nobody');
    await p.page.click('.join-form button[type=submit]');
    expect(await p.page.textContent('.form-error')).toContain('letters, digits');
    // A pasted join link works as a room name.
    await p.page.fill('#room', `${hub.url}/r/pasted-room`);
    await p.page.click('.join-form button[type=submit]');
    await p.page.waitForSelector('.call-header h1');
    expect(await p.page.textContent('.call-header h1')).toBe('pasted-room');
    expect(new URL(p.page.url()).pathname).toBe('/r/pasted-room');
    // What a failing test leaves behind: a PNG of every page.
    const [png] = await saveScreenshots('self-check', [p]);
    expect(readFileSync(png!).subarray(1, 4).toString()).toBe('PNG');
    await p.context.close();
  }, 30_000);

  it('on a phone-sized screen, with the keyboard only: join, mute, change panels; nothing scrolls sideways', async () => {
    const phone = { width: 390, height: 844 };
    const [kim, lee] = await Promise.all([newParticipant(browser, 'Kim', phone), newParticipant(browser, 'Lee')]);
    screenshotOnFailure('phone-keyboard', () => [kim, lee]);
    await join(lee, hub, 'phone');
    await kim.page.goto(`${hub.url}/r/phone`);
    await kim.page.waitForFunction(() => (document.querySelector('.preview video') as HTMLVideoElement | null)?.videoWidth);
    expect(await noSidewaysScroll(kim)).toBe(true);
    // The name field has focus; type, then Tab to the Join button and press Enter.
    expect(await kim.page.evaluate(() => document.activeElement?.id)).toBe('name');
    await kim.page.keyboard.type('Kim');
    await tabTo(kim, '.join-form button[type=submit]');
    await kim.page.keyboard.press('Enter');
    await waitForVideoFrom(kim, ['Lee']);
    expect(await noSidewaysScroll(kim)).toBe(true);

    await tabTo(kim, '[data-action=mic]');
    await kim.page.keyboard.press('Space');
    await lee.page.waitForSelector('.tile[data-name=Kim][data-mic=off]');
    await tabTo(kim, '[data-tab=people]');
    await kim.page.keyboard.press('ArrowRight');
    expect(await kim.page.getAttribute('[data-tab=chat]', 'aria-selected')).toBe('true');
    expect(await kim.page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset['tab'])).toBe('chat');
    const controls = await kim.page.locator('.controls').boundingBox();
    expect(controls!.y + controls!.height).toBeLessThanOrEqual(phone.height);
    await kim.page.screenshot({ path: joinPath(SCREENSHOTS_DIR, 'phone.png') });
    await Promise.all([kim.context.close(), lee.context.close()]);
  }, 60_000);
});

/** Presses Tab until `selector` has focus (fails after 40 presses: not reachable by keyboard). */
async function tabTo(p: Participant, selector: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    if (await p.page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await p.page.keyboard.press('Tab');
  }
  throw new Error(`${selector} is not reachable with Tab`);
}
