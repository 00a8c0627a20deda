/**
 * The "no server" page (/direct) in real Chromium, served by the real `pinhole serve` but
 * using no hub session: two people connect by pasting the invitation and the answer only.
 * - media, chat both ways, a file with the same SHA-256, the badge; the answering side
 *   on a phone-sized viewport, driven by keyboard;
 * - bad input: every wrong paste is explained in plain words and the page stays usable;
 *   an answered invitation refuses a second answer; an expired one refuses any.
 * The string lengths and QR versions the page produces are printed (README figures).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVITATION_TTL_MS } from '../src/direct-codes.js';
import { codeProblem, createInvitation, noSidewaysScroll, openDirect, pasteCode, press, receivedSha256, shownCode } from './direct-support.js';
import { answerOffer, chatLines, cleanupDirs, launchChromium, newParticipant, SCREENSHOTS_DIR, screenshotOnFailure, sendChat, startHub, waitForStats, type Hub } from './support.js';

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

const PHONE = { width: 390, height: 844 };

describe('no-server page', () => {
  it('two pages connect by pasting the two codes: video both ways, chat both ways once, a file with the same SHA-256', async () => {
    const alice = await newParticipant(browser, 'Alice');
    const bob = await newParticipant(browser, 'Bob', PHONE);
    screenshotOnFailure('direct-paste', () => [alice, bob]);
    // From the landing page's link.
    await bob.page.goto(`${hub.url}/`);
    await press(bob.page, 'a[href="/direct"]');
    await bob.page.waitForSelector('#direct-name');
    await bob.page.fill('#direct-name', 'Bob');
    await openDirect(alice, hub);

    const invitation = await createInvitation(alice);
    expect(invitation.code).toMatch(/^PH1s/); // with media: the whole (trimmed) SDP
    await press(bob.page, '[data-action=join]');
    await pasteCode(bob.page, invitation.code);
    const answer = await shownCode(bob.page);
    expect(await noSidewaysScroll(bob.page)).toBe(true);
    // README screenshot: the answer as the phone shows it (text, copy button, QR code).
    await bob.page.waitForFunction(() => (document.querySelector('.code-qr') as HTMLImageElement | null)?.complete);
    mkdirSync(SCREENSHOTS_DIR, { recursive: true });
    await bob.page.screenshot({ path: joinPath(SCREENSHOTS_DIR, 'direct.png'), fullPage: true });
    await pasteCode(alice.page, answer.code);
    await Promise.all([alice.page.waitForSelector('.direct-call'), bob.page.waitForSelector('.direct-call')]);
    console.info('direct codes with camera and mic', { invitation: { chars: invitation.length, qrVersion: invitation.qrVersion }, answer: { chars: answer.length, qrVersion: answer.qrVersion } });
    // Trimmed to one bundled transport, Opus + VP8 and three header extensions, both codes
    // fit a QR code a phone reads off a screen (untrimmed: about 2.3 k characters, version 36).
    expect(invitation.qrVersion).toBeLessThanOrEqual(27);
    expect(answer.qrVersion).toBeLessThanOrEqual(27);

    // Each decodes the other's video.
    for (const p of [alice, bob]) {
      const stats = await waitForStats(p.page, (s) => s.length === 1 && s[0]!.framesDecoded > 0);
      expect(stats[0]!.framesDecoded).toBeGreaterThan(0);
    }
    // Names travel over the data channel; the badge says how the media flows.
    await alice.page.waitForSelector('.tile[data-name=Bob]:not([data-local])');
    await bob.page.waitForSelector('.tile[data-name=Alice]:not([data-local])');
    await alice.page.waitForSelector('.tile:not([data-local]) .badge[data-kind=direct]');
    expect(await alice.page.textContent('.tile:not([data-local]) .badge')).toMatch(/^direct (udp|tcp) · \d+ ms$/);

    await sendChat(alice, 'Hello Bob, no server here');
    await sendChat(bob, 'Hi Alice');
    for (const [p, expected] of [
      [alice, ['You: Hello Bob, no server here', 'Bob: Hi Alice']],
      [bob, ['Alice: Hello Bob, no server here', 'You: Hi Alice']],
    ] as const) {
      await p.page.waitForFunction(() => document.querySelectorAll('.messages li').length >= 2);
      expect(await chatLines(p)).toEqual(expected);
    }

    const data = randomBytes(2 * 1024 * 1024);
    await alice.page.click('[data-tab=files]');
    await alice.page.setInputFiles('.files input[type=file]', { name: 'direct.bin', mimeType: 'application/octet-stream', buffer: data });
    await bob.page.waitForSelector('.offers .offer[data-name="direct.bin"]');
    await answerOffer(bob, 'direct.bin', 'accept');
    await press(bob.page, '[data-tab=files]');
    const done = '.transfer[data-state=done]';
    await Promise.all([alice.page.waitForSelector(`${done}[data-direction=out]`), bob.page.waitForSelector(`${done}[data-direction=in]`)]);
    expect(await receivedSha256(bob.page)).toBe(createHash('sha256').update(data).digest('hex'));
    expect(await noSidewaysScroll(bob.page)).toBe(true);
    // Chat messages arrived exactly once each (nothing re-sent after the file).
    expect(await chatLines(bob)).toHaveLength(2);

    await press(bob.page, '[data-action=leave]');
    await bob.page.waitForSelector('text=The call ended.');
    await alice.page.waitForSelector('[data-banner=state] >> text=Bob left the call.');
    await Promise.all([alice.context.close(), bob.context.close()]);
  }, 60_000);

  it('bad input is explained in plain words and the page stays usable; an invitation takes one answer and expires', async () => {
    const alice = await newParticipant(browser, 'Alice');
    const ben = await newParticipant(browser, 'Ben');
    const bea = await newParticipant(browser, 'Bea');
    screenshotOnFailure('direct-bad-input', () => [alice, ben, bea]);
    await openDirect(alice, hub, false);

    // A STUN field that is not a STUN URL stops nothing but itself.
    await press(alice.page, '.direct-settings summary'); // "Network options" opens
    await alice.page.fill('#direct-stun', 'https://stun.example.org');
    await press(alice.page, '[data-action=create]');
    expect(await alice.page.textContent('.direct-settings .form-error')).toMatch(/is not a STUN server address/);
    await alice.page.fill('#direct-stun', '');
    const invitation = await createInvitation(alice);
    expect(invitation.code).toMatch(/^PH1c/); // data channel only: the compact form

    const answerProblems: [string, RegExp][] = [
      ['', /^Paste the answer/],
      ['hello there', /not a Pinhole code: codes start with “PH1”/],
      [invitation.code.slice(0, 60), /incomplete or was changed on the way/],
      [invitation.code, /This is an invitation, not an answer/],
    ];
    for (const [text, problem] of answerProblems) {
      await pasteCode(alice.page, text);
      expect(await codeProblem(alice.page)).toMatch(problem);
    }

    // Ben answers, then closes his page before Alice pastes: she stays "connecting".
    await openDirect(ben, hub, false);
    await press(ben.page, '[data-action=join]');
    await pasteCode(ben.page, 'PH1c!!!!');
    expect(await codeProblem(ben.page)).toMatch(/incomplete or was changed on the way/);
    await pasteCode(ben.page, invitation.code);
    const benAnswer = await shownCode(ben.page);
    await ben.context.close();
    await pasteCode(alice.page, benAnswer.code);
    await alice.page.waitForSelector('text=Answer accepted. Connecting…');

    // Bea pastes an answer where an invitation goes, then the invitation: a second answer.
    await openDirect(bea, hub, false);
    await press(bea.page, '[data-action=join]');
    await pasteCode(bea.page, benAnswer.code);
    expect(await codeProblem(bea.page)).toMatch(/This is an answer, not an invitation/);
    await pasteCode(bea.page, invitation.code);
    const beaAnswer = await shownCode(bea.page);
    console.info('direct codes without media', { invitation: { chars: invitation.length, qrVersion: invitation.qrVersion }, answer: { chars: beaAnswer.length, qrVersion: beaAnswer.qrVersion } });
    await pasteCode(alice.page, beaAnswer.code);
    expect(await codeProblem(alice.page)).toMatch(/already answered: one invitation connects one person/);

    // An invitation left unanswered expires (the page's clock moved past its lifetime).
    const late = await newParticipant(browser, 'Late');
    await late.context.clock.install();
    await openDirect(late, hub, false);
    await createInvitation(late);
    await late.page.clock.fastForward(INVITATION_TTL_MS + 1000);
    await late.page.waitForSelector('[data-action=start-over]');
    await pasteCode(late.page, beaAnswer.code);
    expect(await codeProblem(late.page)).toMatch(/This invitation expired/);
    await Promise.all([alice.context.close(), bea.context.close(), late.context.close()]);
  }, 60_000);
});
