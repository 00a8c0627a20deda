/**
 * The hub restarts mid-call (`pinhole serve` stopped, then started again on the same port
 * and data dir). The pages show that they are reconnecting while the media between them
 * keeps flowing, then recover (new hub sessions, the room joined again); chat goes on and
 * no message is lost or shown twice, including one sent while the other side was still away.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it, onTestFinished } from 'vitest';
import {
  chatLines,
  cleanupDirs,
  connectedStats,
  freshCast,
  join,
  launchChromium,
  sendChat,
  startHub,
  waitForStats,
  waitForVideoFrom,
  type Hub,
  type Participant,
} from './support.js';

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  cleanupDirs();
});

const framesFrom = async (p: Participant): Promise<number> => (await connectedStats(p.page)).reduce((n, s) => n + s.framesDecoded, 0);

it('the hub restarts mid-call: reconnecting is shown, media keeps flowing, the call and the chat recover with nothing lost', async () => {
  // A hub of this attempt's own: a retry must not start from a hub an earlier attempt stopped.
  let hub: Hub = await startHub();
  onTestFinished(() => hub.stop());
  const cast = freshCast(browser, 'restart');
  const [ann, ben] = (await Promise.all([cast.add('Ann'), cast.add('Ben')])) as [Participant, Participant];
  await join(ann, hub, cast.room);
  await join(ben, hub, cast.room);
  await Promise.all([waitForVideoFrom(ann, ['Ben']), waitForVideoFrom(ben, ['Ann'])]);
  await sendChat(ann, 'before the restart');
  await sendChat(ben, 'ack, before');
  await ben.page.waitForFunction(() => document.querySelectorAll('.messages li').length === 2);

  await hub.stop();
  for (const p of [ann, ben]) await p.page.waitForSelector('[data-banner=reconnecting]', { timeout: 15_000 });
  // Media is peer to peer: it does not need the hub.
  const before = await framesFrom(ben);
  await ben.page.waitForFunction((n) => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.filter((pc) => pc.connectionState === 'connected');
    return Promise.all(pcs.map((pc) => pc.getStats())).then((all) => {
      let frames = 0;
      for (const stats of all) for (const s of stats.values()) if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0;
      return frames > n + 10;
    });
  }, before);
  await sendChat(ann, 'while the hub is down');
  await ben.page.waitForFunction(() => [...document.querySelectorAll('.messages .text')].some((t) => t.textContent === 'while the hub is down'));

  hub = await startHub({ reuse: hub });
  await ann.page.waitForSelector('[data-banner=reconnecting]', { state: 'detached', timeout: 30_000 });
  // Right away, before Ben is necessarily back: kept for Ben's client and delivered when he is.
  await sendChat(ann, 'right after the restart');
  await ben.page.waitForSelector('[data-banner=reconnecting]', { state: 'detached', timeout: 30_000 });
  await Promise.all([waitForVideoFrom(ann, ['Ben'], 30_000), waitForVideoFrom(ben, ['Ann'], 30_000)]);
  for (const p of [ann, ben]) {
    await waitForStats(p.page, (s) => s.length === 1 && s[0]!.framesDecoded > 0);
    // Back on some rung of the ladder (while the hub was down it may have stepped down to poll).
    expect(['ws', 'sse', 'poll']).toContain(await p.page.getAttribute('.transport', 'data-transport'));
  }
  await sendChat(ben, 'and after');

  const all = ['Ann: before the restart', 'Ben: ack, before', 'Ann: while the hub is down', 'Ann: right after the restart', 'Ben: and after'];
  for (const p of [ann, ben]) {
    await p.page.waitForFunction((n) => document.querySelectorAll('.messages li').length >= n, all.length, { timeout: 15_000 });
    const mine = all.map((line) => line.replace(new RegExp(`^${p.name}:`), 'You:'));
    expect((await chatLines(p)).sort()).toEqual(mine.sort());
  }
}, 120_000);
