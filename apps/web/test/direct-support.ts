/**
 * Support for the "no server" page's E2E tests: driving its two flows, and a fake camera
 * that films a QR code (a Y4M file for Chromium's --use-file-for-fake-video-capture).
 */
import { writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import QRCode from 'qrcode';
import type { Hub, Participant } from './support.js';

export interface ShownCode {
  code: string;
  length: number;
  /** QR version at error correction L, as the page draws it. */
  qrVersion: number | undefined;
}

/** Opens /direct with the name filled in and camera/mic on or off. */
export async function openDirect(p: Participant, hub: Hub, media = true): Promise<void> {
  await p.page.goto(`${hub.url}/direct`);
  await p.page.fill('#direct-name', p.name);
  await p.page.setChecked('#direct-media', media);
}

/** The code the page shows (invitation or answer), once ICE gathering finished. */
export async function shownCode(page: Page): Promise<ShownCode> {
  const box = await page.waitForSelector('.code-box[data-length]');
  const version = await box.getAttribute('data-qr-version');
  return { code: await page.inputValue('.code-box textarea'), length: Number(await box.getAttribute('data-length')), qrVersion: version ? Number(version) : undefined };
}

/** Presses a button by keyboard: focus it, Enter. */
export async function press(page: Page, selector: string): Promise<void> {
  await page.focus(selector);
  await page.keyboard.press('Enter');
}

/** Clicks "Create invitation" and returns the invitation. */
export async function createInvitation(p: Participant): Promise<ShownCode> {
  await press(p.page, '[data-action=create]');
  return shownCode(p.page);
}

/** Pastes `text` into the page's code field and submits it (keyboard only). */
export async function pasteCode(page: Page, text: string): Promise<void> {
  await page.fill('.code-input textarea', '');
  await page.focus('.code-input textarea');
  await page.keyboard.insertText(text);
  await press(page, '.code-input button[type=submit]');
}

/** The problem the code field shows after a submit ('' when none), once the page has answered. */
export async function codeProblem(page: Page): Promise<string> {
  await page.waitForFunction(() => document.querySelector('.code-input')?.getAttribute('aria-busy') !== 'true' && !!document.querySelector('.code-input .form-error')?.textContent);
  return (await page.textContent('.code-input .form-error')) ?? '';
}

/** SHA-256 (hex) of the completed incoming file's download. */
export function receivedSha256(page: Page): Promise<string> {
  return page.$eval('.transfer[data-state=done][data-direction=in] a[download]', async (a) => {
    const bytes = await (await fetch((a as HTMLAnchorElement).href)).arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
  });
}

export function noSidewaysScroll(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

/**
 * Writes a Y4M video (YUV4MPEG2, 4:2:0) showing the QR code of `text` as a camera would
 * film a screen: black modules on white, `quiet` modules of margin (ISO/IEC 18004 asks
 * for 4), `scale` pixels per module, `frames` identical frames at 10 fps (Chromium loops it).
 */
export function writeQrY4m(path: string, text: string, { scale = 4, quiet = 4, frames = 3 } = {}): { version: number; side: number } {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'L' });
  const n = qr.modules.size;
  let side = (n + 2 * quiet) * scale;
  side += side % 2; // 4:2:0 halves both dimensions
  const luma = Buffer.alloc(side * side, 255);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      if (!qr.modules.get(row, col)) continue;
      for (let y = 0; y < scale; y++) luma.fill(0, ((quiet + row) * scale + y) * side + (quiet + col) * scale, ((quiet + row) * scale + y) * side + (quiet + col + 1) * scale);
    }
  }
  const chroma = Buffer.alloc((side / 2) * (side / 2) * 2, 128); // U and V: no colour
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma]);
  writeFileSync(path, Buffer.concat([Buffer.from(`YUV4MPEG2 W${side} H${side} F10:1 Ip A1:1 C420jpeg\n`), ...Array.from({ length: frames }, () => frame)]));
  return { version: qr.version, side };
}
