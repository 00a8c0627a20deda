/**
 * The media path really breaks mid-call and heals. Both pages use `?relay=1`, so every
 * byte between them goes through coturn, which `pinhole serve` hands out as its TURN
 * server (`--turn-url`, `--turn-secret`: TURN REST API credentials). Killing coturn
 * (SIGKILL: its allocations die with it) cuts the media; Chromium's ICE notices, each
 * page shows "Connection to <name> lost — retrying…", and the SDK's repairs (ICE
 * restarts, then a new connection) fail while there is no TURN server. Started again on
 * the same port, coturn gives the next repair new allocations: the banner goes away and
 * video decodes again, still relay to relay. The hub stays up the whole time (signaling
 * carries the repairs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freeUdpTcpPorts } from '@pinhole/test-kit/cli';
import { startCoturn } from '@pinhole/test-kit/coturn';
import { cleanupDirs, connectedStats, freshCast, join, launchChromium, startHub, waitForStats, waitForVideoFrom, type Hub, type Participant } from './support.js';

const SECRET = 'web-e2e-coturn-secret';
const coturnDir = mkdtempSync(joinPath(tmpdir(), 'pinhole-web-coturn-'));
let coturnOptions: Parameters<typeof startCoturn>[0];
let coturn: Awaited<ReturnType<typeof startCoturn>> | undefined;
let hub: Hub;
let browser: Browser;

beforeAll(async () => {
  const [port] = await freeUdpTcpPorts(1);
  coturnOptions = { port: port!, secret: SECRET, realm: 'pinhole', minPort: 44000, maxPort: 44999, pidFile: joinPath(coturnDir, 'turnserver.pid') };
  coturn = await startCoturn(coturnOptions);
  [hub, browser] = await Promise.all([startHub({ turn: { url: `turn:127.0.0.1:${port}?transport=udp`, secret: SECRET } }), launchChromium()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  await coturn?.stop();
  rmSync(coturnDir, { recursive: true, force: true });
  cleanupDirs();
});

const relayed = (stats: { local?: string; remote?: string; framesDecoded: number }[]): boolean =>
  stats.length === 1 && stats[0]!.local === 'relay' && stats[0]!.remote === 'relay' && stats[0]!.framesDecoded > 0;

it('coturn dies mid-call: each page shows the connection to the other lost and retrying; coturn back on its port: the call heals by itself', async () => {
  // coturn is back up if an earlier attempt failed while it was down.
  coturn ??= await startCoturn(coturnOptions);
  const cast = freshCast(browser, 'turn-outage');
  const [ann, ben] = (await Promise.all([cast.add('Ann'), cast.add('Ben')])) as [Participant, Participant];
  await join(ann, hub, cast.room, '?relay=1');
  await join(ben, hub, cast.room, '?relay=1');
  await Promise.all([waitForVideoFrom(ann, ['Ben']), waitForVideoFrom(ben, ['Ann'])]);
  for (const p of [ann, ben]) await waitForStats(p.page, relayed);

  // The outage: the only path between the pages is gone.
  const dead = coturn!;
  coturn = undefined;
  const exited = new Promise((resolve) => dead.child.once('exit', resolve));
  const killedAt = Date.now();
  dead.child.kill('SIGKILL');
  await exited;
  const banner = (p: Participant, other: Participant) => `[data-banner^="media-"]:has-text("Connection to ${other.name} lost — retrying…")`;
  await Promise.all([ann.page.waitForSelector(banner(ann, ben), { timeout: 30_000 }), ben.page.waitForSelector(banner(ben, ann), { timeout: 30_000 })]);
  const shownAt = Date.now();
  // Real trouble, not a banner alone: no connection of either page is connected now.
  for (const p of [ann, ben]) expect(await connectedStats(p.page)).toEqual([]);

  coturn = await startCoturn(coturnOptions);
  const backAt = Date.now();
  for (const p of [ann, ben]) await p.page.waitForSelector('[data-banner^="media-"]', { state: 'detached', timeout: 60_000 });
  console.log(`TURN outage: banners ${shownAt - killedAt} ms after the kill; gone ${Date.now() - backAt} ms after coturn was back`);
  await Promise.all([waitForVideoFrom(ann, ['Ben'], 30_000), waitForVideoFrom(ben, ['Ann'], 30_000)]);
  for (const p of [ann, ben]) {
    const before = (await waitForStats(p.page, relayed))[0]!.framesDecoded;
    await waitForStats(p.page, (s) => relayed(s) && s[0]!.framesDecoded > before + 10);
  }
}, 150_000);
