/**
 * Scanning on the "no server" page: the answering side's camera films the QR code of the
 * real invitation (Chromium's fake camera playing a Y4M made from it) and the page reads
 * it with jsQR; the connection completes. With the camera refused, the page says so in
 * plain words and pasting still connects.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeProblem, createInvitation, openDirect, pasteCode, press, shownCode, writeQrY4m } from './direct-support.js';
import { cleanupDirs, launchChromium, newParticipant, screenshotOnFailure, startHub, type Hub } from './support.js';

let hub: Hub;
let browser: Browser;
const browsers: Browser[] = [];
const dir = mkdtempSync(joinPath(tmpdir(), 'pinhole-qr-'));

beforeAll(async () => {
  [hub, browser] = await Promise.all([startHub(), launchChromium()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([browser, ...browsers].map((b) => b?.close()));
  await hub?.stop();
  cleanupDirs();
  rmSync(dir, { recursive: true, force: true });
});

describe('no-server page: scanning', () => {
  it('the answering side scans the invitation (with camera and mic: the long code) with its camera, and the two connect', async () => {
    const alice = await newParticipant(browser, 'Alice');
    await openDirect(alice, hub);
    const invitation = await createInvitation(alice);
    const video = joinPath(dir, 'invitation.y4m');
    const { version, side } = writeQrY4m(video, invitation.code);
    expect(version).toBe(invitation.qrVersion); // the page draws the same QR code
    console.info(`scanning a QR code of version ${version} (${invitation.length} chars) from a ${side}×${side} camera`);
    const camera = await launchChromium([`--use-file-for-fake-video-capture=${video}`]);
    browsers.push(camera);
    const bob = await newParticipant(camera, 'Bob');
    screenshotOnFailure('direct-scan', () => [alice, bob]);

    await openDirect(bob, hub);
    await press(bob.page, '[data-action=join]');
    await press(bob.page, '.code-input [data-action=scan]');
    const answer = await shownCode(bob.page);
    expect(answer.code).toMatch(/^PH1s/);
    await pasteCode(alice.page, answer.code);
    await Promise.all([alice.page.waitForSelector('.direct-call'), bob.page.waitForSelector('.direct-call')]);
    await Promise.all([alice.context.close(), bob.context.close()]);
  }, 60_000);

  it('with the camera refused, scanning says so in plain words and pasting still connects', async () => {
    const denying = await launchChromium(['--use-fake-ui-for-media-stream=deny']);
    browsers.push(denying);
    const alice = await newParticipant(browser, 'Alice');
    const carol = await newParticipant(denying, 'Carol');
    screenshotOnFailure('direct-scan-denied', () => [alice, carol]);
    await openDirect(alice, hub);
    const invitation = await createInvitation(alice);

    await openDirect(carol, hub);
    await press(carol.page, '[data-action=join]');
    await press(carol.page, '.code-input [data-action=scan]');
    expect(await codeProblem(carol.page)).toMatch(/^Pinhole is not allowed to use the camera, so it cannot scan\. .*You can paste the code instead/);
    expect(await carol.page.$('.scanner')).toBeNull();
    await pasteCode(carol.page, invitation.code);
    // Carol's camera and mic are refused too: she answers without them, and says so.
    await carol.page.waitForSelector('[data-note=no-media]');
    const answer = await shownCode(carol.page);
    await pasteCode(alice.page, answer.code);
    await Promise.all([alice.page.waitForSelector('.direct-call'), carol.page.waitForSelector('.direct-call')]);
    // Alice's video reaches Carol; Carol sends none (her tile shows her initials).
    await carol.page.waitForFunction(() => ((document.querySelector('.tile:not([data-local]) video') as HTMLVideoElement | null)?.videoWidth ?? 0) > 0);
    await alice.page.waitForSelector('.tile[data-name=Carol][data-camera=off]');
    await Promise.all([alice.context.close(), carol.context.close()]);
  }, 60_000);
});
