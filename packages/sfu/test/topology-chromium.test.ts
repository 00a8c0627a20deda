/**
 * The SDK's mesh ↔ SFU switch in real Chromium (docs/protocol/peer.md §12.5), three pages with
 * fake cameras, a real hub and the SFU as its service member: two people talk peer-to-peer; a
 * third joins and everyone's media moves to the SFU (each page plays both others' video
 * through it, and the mesh connections stop carrying media); the third leaves and the two stay
 * on the SFU (MESH_RETURN_MS: no return by default). The video keeps playing across the switch
 * (the longest freeze is printed). The SFU killed and restarted: the media is back within 10 s.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser, launchChromium, serveStatic, type StaticServer } from '@pinhole/test-kit/browser';
import { startTestHub } from '@pinhole/test-kit/hub';
import { bundleCli } from '@pinhole/test-kit/cli-bundle';
import { startProcess } from '@pinhole/test-kit/process';
import { mintToken } from '@pinhole/server';
import { Sfu, SfuService } from '../src/index.js';

interface State {
  mode: 'mesh' | 'sfu';
  modes: string[];
  sfu: boolean;
  sfuId: string | undefined;
  meshSenders: number;
  videos: Record<string, { frames: number; via: 'mesh' | 'sfu'; sfu: string | undefined; width: number; maxGapMs: number; sinceLastMs: number }>;
}

/** The longest freeze a mesh ↔ SFU switch may cause (see the first test). */
const SWITCH_FREEZE_MS = 5_000;

let browser: Browser;
let server: StaticServer;
const cleanup: (() => Promise<unknown> | unknown)[] = [];

beforeAll(async () => {
  const script = await bundleForBrowser(new URL('./support/topology-entry.ts', import.meta.url));
  server = await serveStatic({
    '/': '<!doctype html><meta charset="utf-8"><title>topology</title><script type="module" src="/entry.js"></script>',
    '/entry.js': script,
  });
  browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function participant(url: string, name: string, token?: string): Promise<Page> {
  const context = await browser.newContext();
  cleanup.push(() => context.close());
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[${name}] ${err.message}`));
  page.on('console', (m) => process.env['TOPOLOGY_DEBUG'] && console.log(`[${name}] ${m.text()}`));
  await page.goto(server.url);
  await page.waitForFunction('window.pinhole !== undefined');
  await page.evaluate(`pinhole.open(${JSON.stringify(url)}, ${JSON.stringify(name)}, 'auto', ${JSON.stringify(token ?? '')})`);
  return page;
}

const state = (page: Page): Promise<State> => page.evaluate('pinhole.state()') as Promise<State>;

async function until(pages: Page[], ok: (s: State) => boolean, what: string, ms = 30_000): Promise<State[]> {
  const deadline = Date.now() + ms;
  let last: State[] = [];
  while (Date.now() < deadline) {
    last = await Promise.all(pages.map(state));
    if (last.every(ok)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  const media = await Promise.all(pages.map((p) => p.evaluate('pinhole.meshMedia()')));
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}\nmesh connections: ${JSON.stringify(media)}`);
}

/** Every page plays video from each of `others` (frames still arriving) the given way. */
const playing = (names: string[], via: 'mesh' | 'sfu') => (s: State) =>
  Object.keys(s.videos).length === names.length - 1 &&
  Object.values(s.videos).every((v) => v.via === via && v.frames > 10 && v.sinceLastMs < 1000);

describe('a room moves from mesh to SFU as it grows', () => {
  it('two direct → three through the SFU → two stay on it; the video keeps playing', async () => {
    const hub = await startTestHub();
    cleanup.push(() => hub.close());
    const sfu = new Sfu();
    cleanup.push(() => sfu.close());
    const service = new SfuService({ hub: hub.url, token: () => hub.serviceToken('sfu'), sfu });
    cleanup.push(() => service.close());
    await service.start();

    const ana = await participant(hub.url, 'Ana');
    const ben = await participant(hub.url, 'Ben');
    const two = [ana, ben];
    let states = await until(two, (s) => s.sfu && s.mode === 'mesh' && playing(['Ana', 'Ben'], 'mesh')(s), 'two people direct');
    expect(states.map((s) => s.meshSenders)).toEqual([2, 2]);

    await Promise.all(two.map((p) => p.evaluate('pinhole.resetGaps()')));
    const cy = await participant(hub.url, 'Cy');
    const three = [ana, ben, cy];
    states = await until(three, (s) => s.mode === 'sfu' && playing(['Ana', 'Ben', 'Cy'], 'sfu')(s), 'three people through the SFU', 60_000);
    // Make before break: the mesh stops carrying media once everyone's publication is up.
    states = await until(three, (s) => s.meshSenders === 0, 'mesh senders removed');
    console.log('mesh → SFU', JSON.stringify(states.map((s) => s.videos)));
    expect(sfu.counts().publishers).toBe(3);
    // Ana and Ben watched each other across the switch: the picture went on. Quiet, the longest
    // gap is a few frames; on this 2-core machine under load, 1–3 s were measured (each browser
    // encodes its camera for the mesh and the SFU at once during the switch): SWITCH_FREEZE_MS
    // tells a slow switch from a broken one (a stall waits for the 10 s grace, or for ever).
    expect(Math.max(states[0]!.videos['Ben']!.maxGapMs, states[1]!.videos['Ana']!.maxGapMs)).toBeLessThan(SWITCH_FREEZE_MS);

    // Cy leaves: by default (MESH_RETURN_MS) the two stay on the SFU and keep watching each other
    // through it; the mesh, still up for data, gets no media back.
    await Promise.all(two.map((p) => p.evaluate('pinhole.resetGaps()')));
    await cy.evaluate('pinhole.leave()');
    await new Promise((r) => setTimeout(r, 6_000));
    states = await until(two, (s) => s.mode === 'sfu' && s.meshSenders === 0 && playing(['Ana', 'Ben'], 'sfu')(s), 'two people still through the SFU');
    expect(states.every((s) => s.modes.join() === 'sfu')).toBe(true);
    expect(Math.max(...states.flatMap((s) => Object.values(s.videos).map((v) => v.maxGapMs)))).toBeLessThan(SWITCH_FREEZE_MS);
    expect(sfu.counts().publishers).toBe(2);
  }, 200_000);

  it('the SFU process killed mid-call and started again: every page plays video again within 10 s, then through the new SFU', async () => {
    const secret = 'topology-test-secret-0123456789abcdef';
    const hub = await startTestHub({ secret });
    cleanup.push(() => hub.close());
    const cli = await bundleCli();
    const startSfu = () => {
      const p = startProcess(process.execPath, [cli, 'sfu', '--hub', hub.url, '--secret', secret, '--insecure', '--log-level', 'warn']);
      cleanup.push(() => p.stop());
      return p;
    };
    const first = startSfu();
    const names = ['Dee', 'Eli', 'Fay'];
    const pages: Page[] = [];
    for (const name of names) pages.push(await participant(hub.url, name, await mintToken(secret, { identity: name }, 600)));
    await until(pages, (s) => s.mode === 'sfu' && playing(names, 'sfu')(s), 'three people through the first SFU');

    const before = (await state(pages[0]!)).sfuId;
    await Promise.all(pages.map((p) => p.evaluate('pinhole.resetGaps()')));
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    startSfu();
    const timeline: string[] = [];
    const watcher = setInterval(() => {
      void Promise.all(pages.map(state)).then((all) => {
        const line = all.map((s) => `[${(s as unknown as { mesh: string }).mesh}] ${s.mode}/${s.sfuId === before ? 'old' : s.sfuId ? 'new' : '-'}/${Object.values(s.videos).map((v) => `${v.via}${v.sinceLastMs < 500 ? '+' : '-'}`).join(',')}`).join(' ');
        if (timeline.at(-1)?.endsWith(line) !== true) timeline.push(`${Date.now() - killedAt} ms ${line}`);
      }, () => undefined);
    }, 500);
    cleanup.push(() => clearInterval(watcher));
    // Media comes back on the mesh while the dead SFU's member lingers, or at once on the new SFU.
    const states = await until(
      pages,
      (s) => s.mode === 'sfu' && s.sfuId !== before && playing(names, 'sfu')(s) && Object.values(s.videos).every((v) => v.sfu === s.sfuId),
      'three people through the new SFU',
      40_000,
    );
    const outageMs = Math.max(...states.flatMap((s) => Object.values(s.videos).map((v) => v.maxGapMs)));
    console.log(timeline.join('\n'));
    console.log(`SFU killed: the longest freeze ${outageMs} ms; all through the new SFU after ${Date.now() - killedAt} ms`);
    expect(outageMs).toBeLessThan(10_000);
  }, 120_000);
});
