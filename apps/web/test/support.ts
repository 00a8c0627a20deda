/**
 * E2E support: the real `pinhole serve` (in-process through the cli, HTTPS with the
 * self-signed dev certificate, embedded TURN on free ports) and Debian's Chromium with fake
 * camera, microphone and screen. One browser per test file; each participant is its own
 * browser context (own storage), so pages are independent people.
 *
 * Pages get one init script: it records every RTCPeerConnection the app makes in
 * `window.__pcs`, so tests read getStats() of the app's real connections without the app
 * exposing anything.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { onTestFailed, onTestFinished } from 'vitest';
import { launchChromium } from '@pinhole/test-kit/browser';
import { freeUdpTcpPorts, startServeCli, tempDirs, type Served } from '@pinhole/test-kit/cli';

export { launchChromium };

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const RESULTS_DIR = joinPath(REPO, 'test-results', 'web');
/**
 * Where the README screenshots go: docs/screenshots with PINHOLE_UPDATE_SCREENSHOTS=1
 * (then commit them), else test-results/web/screenshots, so a test run leaves the tree clean.
 */
export const SCREENSHOTS_DIR = process.env['PINHOLE_UPDATE_SCREENSHOTS'] === '1' ? joinPath(REPO, 'docs', 'screenshots') : joinPath(RESULTS_DIR, 'screenshots');

export interface Hub {
  served: Served;
  /** https://host:port */
  url: string;
  port: number;
  dataDir: string;
  args: string[];
  stop(): Promise<void>;
}

const dirs = tempDirs();

/**
 * Starts `pinhole serve` on `host` with free hub / TURN / TURN-TLS ports (so test files
 * may run side by side) and relaying to loopback peers allowed. `reuse` restarts on the
 * same port and data dir (same certificate). `turn` hands out an external TURN server
 * (e.g. coturn) with TURN REST API credentials instead of starting the embedded one.
 */
export async function startHub(options: { host?: string; extra?: string[]; reuse?: Hub; turn?: { url: string; secret: string } } = {}): Promise<Hub> {
  const host = options.host ?? '127.0.0.1';
  let args = options.reuse?.args;
  let dataDir = options.reuse?.dataDir;
  if (!args || !dataDir) {
    const [port, turnPort, turnTlsPort] = await freeUdpTcpPorts(3);
    dataDir = dirs.make();
    const turn = options.turn
      ? ['--turn-url', options.turn.url, '--turn-secret', options.turn.secret]
      : ['--turn-port', String(turnPort), '--turn-tls-port', String(turnTlsPort), '--turn-allow-peer', '127.0.0.0/8'];
    args = [
      '--host', host,
      '--port', String(port),
      '--data-dir', dataDir,
      ...turn,
      '--log-level', 'warn',
      ...(options.extra ?? []),
    ];
  }
  const served = await startServeCli(args);
  const port = served.server.port;
  return {
    served,
    url: `https://${host}:${port}`,
    port,
    dataDir,
    args,
    stop: async () => {
      await served.stop();
    },
  };
}

export function cleanupDirs(): void {
  dirs.cleanup();
}

const TRACK_PEER_CONNECTIONS = `
  window.__pcs = [];
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); window.__pcs.push(this); }
  };
`;

export interface Participant {
  name: string;
  context: BrowserContext;
  page: Page;
}

/** A new person: own context, HTTPS errors of the self-signed certificate ignored. */
export async function newParticipant(browser: Browser, name: string, viewport = { width: 1280, height: 720 }): Promise<Participant> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport });
  await context.addInitScript(TRACK_PEER_CONNECTIONS);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[${name}] ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') console.error(`[${name}] ${m.text()}`);
  });
  return { name, context, page };
}

/** The people of one test attempt, in a room of their own. */
export interface Cast {
  /** A room name no other attempt uses. */
  room: string;
  people: Participant[];
  /** A new person of this attempt (own browser context and page). */
  add(name: string, viewport?: { width: number; height: number }): Promise<Participant>;
}

/**
 * Call inside a test. A retry of a test is a new attempt with a new cast: a fresh room and
 * fresh browser contexts, so nothing an earlier attempt left (a finished transfer, a queued
 * file offer, a peer still in the room) can be read. When the attempt ends its pages are
 * saved to test-results/web/ if it failed, then every context is closed.
 */
export function freshCast(browser: Browser, label: string): Cast {
  const room = `${label}-${randomUUID().slice(0, 8)}`;
  const people: Participant[] = [];
  onTestFinished(async ({ task }) => {
    if (task.result?.state === 'fail') {
      const paths = await saveScreenshots(room, people);
      console.error(`screenshots of the failed test: ${paths.join(', ')}`);
    }
    await Promise.all(people.map((p) => p.context.close().catch(() => undefined)));
  }, 180_000); // screenshots and closing pages are slow on a busy machine
  return {
    room,
    people,
    async add(name, viewport) {
      const p = await newParticipant(browser, name, viewport);
      // Playwright's 30 s for a click is too short for a page starved by a busy machine.
      p.context.setDefaultTimeout(60_000);
      people.push(p);
      return p;
    },
  };
}

/** Opens the join link, types the name, clicks Join, and waits until the call is connected. */
export async function join(p: Participant, hub: Hub, room: string, query = ''): Promise<void> {
  await p.page.goto(`${hub.url}/r/${room}${query}`);
  await p.page.fill('#name', p.name);
  // The preview must be running (camera granted by the fake UI) before joining with media.
  await p.page.waitForFunction(() => (document.querySelector('.preview video') as HTMLVideoElement | null)?.srcObject != null);
  await p.page.click('.join-form button[type=submit]');
  await p.page.waitForSelector('.call-header .transport[data-transport]:not([data-transport=reconnecting])');
}

/** Waits until `p` shows tiles of exactly `names` (besides its own) with video playing. */
export async function waitForVideoFrom(p: Participant, names: string[], timeout = 20_000): Promise<void> {
  await p.page.waitForFunction(
    (expected: string[]) => {
      const tiles = [...document.querySelectorAll<HTMLElement>('.tile:not([data-local])')];
      const names = tiles.map((t) => t.dataset['name']).sort();
      if (JSON.stringify(names) !== JSON.stringify([...expected].sort())) return false;
      return tiles.every((t) => (t.querySelector('video')?.videoWidth ?? 0) > 0);
    },
    names,
    { timeout },
  );
}

export interface PeerStats {
  framesDecoded: number;
  frameWidth?: number;
  frameHeight?: number;
  local?: string;
  remote?: string;
  relayProtocol?: string;
}

/** Stats of every connected RTCPeerConnection of the page (one per remote peer in a mesh). */
export function connectedStats(page: Page): Promise<PeerStats[]> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.filter((pc) => pc.connectionState === 'connected');
    return Promise.all(
      pcs.map(async (pc) => {
        const stats = [...(await pc.getStats()).values()] as Record<string, unknown>[];
        const byId = new Map(stats.map((s) => [s['id'] as string, s]));
        const video = stats.find((s) => s['type'] === 'inbound-rtp' && s['kind'] === 'video');
        const transport = stats.find((s) => s['type'] === 'transport' && s['selectedCandidatePairId']);
        const pair = transport ? byId.get(transport['selectedCandidatePairId'] as string) : undefined;
        const local = pair ? byId.get(pair['localCandidateId'] as string) : undefined;
        const remote = pair ? byId.get(pair['remoteCandidateId'] as string) : undefined;
        return {
          framesDecoded: (video?.['framesDecoded'] as number | undefined) ?? 0,
          frameWidth: video?.['frameWidth'] as number | undefined,
          frameHeight: video?.['frameHeight'] as number | undefined,
          local: local?.['candidateType'] as string | undefined,
          remote: remote?.['candidateType'] as string | undefined,
          relayProtocol: local?.['relayProtocol'] as string | undefined,
        };
      }),
    );
  });
}

/** Frames decoded by each inbound video stream, per connected RTCPeerConnection of the page. */
export function inboundVideo(page: Page): Promise<number[][]> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.filter((pc) => pc.connectionState === 'connected');
    return Promise.all(
      pcs.map(async (pc) =>
        [...(await pc.getStats()).values()]
          .filter((s: Record<string, unknown>) => s['type'] === 'inbound-rtp' && s['kind'] === 'video' && s['framesDecoded'] !== undefined)
          .map((s: Record<string, unknown>) => s['framesDecoded'] as number),
      ),
    );
  });
}

/** Polls `inboundVideo` until `ok` holds. */
export async function waitForInboundVideo(page: Page, ok: (counts: number[][]) => boolean, timeout = 20_000): Promise<number[][]> {
  const deadline = Date.now() + timeout;
  let last: number[][] = [];
  while (Date.now() < deadline) {
    last = await inboundVideo(page);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`inbound video never matched: ${JSON.stringify(last)}`);
}

/** Polls `connectedStats` until `ok` holds (media takes a moment to decode). */
export async function waitForStats(page: Page, ok: (stats: PeerStats[]) => boolean, timeout = 20_000): Promise<PeerStats[]> {
  const deadline = Date.now() + timeout;
  let last: PeerStats[] = [];
  while (Date.now() < deadline) {
    last = await connectedStats(page);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`stats never matched: ${JSON.stringify(last)}`);
}

/** Chat messages `p` shows, as "name: text" (own ones as "You: text"). */
export function chatLines(p: Participant): Promise<string[]> {
  return p.page.$$eval('.messages li', (items) => items.map((li) => `${li.querySelector('.who')?.textContent}: ${li.querySelector('.text')?.textContent}`));
}

export async function sendChat(p: Participant, text: string): Promise<void> {
  await p.page.click('[data-tab=chat]');
  await p.page.fill('.compose input', text);
  await p.page.press('.compose input', 'Enter');
}

/**
 * Answers the incoming-file prompt for `fileName` by keyboard (focus the button, Enter):
 * Accept stores it, Decline tells the sender.
 */
export async function answerOffer(p: Participant, fileName: string, choice: 'accept' | 'decline'): Promise<void> {
  await p.page.focus(`.offers .offer[data-name="${fileName}"] [data-action=${choice}]`);
  await p.page.keyboard.press('Enter');
}

/** Saves a PNG of every page into test-results/web/ (named after the test). */
export async function saveScreenshots(label: string, participants: Participant[]): Promise<string[]> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const safe = label.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 80);
  const paths: string[] = [];
  for (const p of participants) {
    const path = joinPath(RESULTS_DIR, `${safe}-${p.name}.png`);
    await p.page.screenshot({ path }).then(
      () => paths.push(path),
      () => undefined, // a closed page has nothing to show
    );
  }
  return paths;
}

/** Call inside a test: if it fails, every participant's page is saved to test-results/web/. */
export function screenshotOnFailure(label: string, participants: () => Participant[]): void {
  onTestFailed(async () => {
    const paths = await saveScreenshots(label, participants());
    console.error(`screenshots of the failed test: ${paths.join(', ')}`);
  });
}
