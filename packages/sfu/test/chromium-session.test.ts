/**
 * One Chromium RTCPeerConnection as a member's whole subscriber session (docs/protocol/sfu.md
 * §15.4): it answers every offer of the SFU and decodes video from two publishers added one
 * after the other, then a second video track one of them adds by renegotiating its own
 * publication (a screen share, say), and keeps decoding the rest when a publisher leaves; a
 * later publisher's tracks reuse the sections the leaver freed; the re-published track's
 * end (its transceiver stopped) takes its section out too.
 * Each offer's `tracks` tell which section carries whose track; the engine holds one
 * subscriber transport throughout, and nothing once everyone has left.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ssrcOfSection } from '@pinhole/test-kit/media-peer';
import { Sfu, type SessionOffer } from '../src/index.js';
import { launchChromium, openPage, pageSubscriber, type TestPage } from './support/pages.js';

type Inbound = Record<string, { mid: string; kind: string; packets: number; frames: number; width: number }>;

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 20_000): Promise<T> {
  const started = Date.now();
  let last: T = await read();
  while (!ok(last)) {
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await read();
  }
  return last;
}

/** The SSRCs of `publisher`'s video sections in `offer` (by its `tracks`). */
const videoSsrcs = (offer: SessionOffer, publisher: string): number[] =>
  offer.tracks.filter((t) => t.publisher === publisher && t.kind === 'video').map((t) => ssrcOfSection(offer.sdp, t.mid)!);

describe('a Chromium subscriber session through the SFU (one RTCPeerConnection, renegotiated)', () => {
  it('decodes two publishers added one after the other, a track one of them adds by re-publishing, and the rest once one leaves', async () => {
    const sfu = new Sfu();
    const room = sfu.room('s');
    const pages: TestPage[] = [];
    const open = async (name: string): Promise<TestPage> => {
      const page = await openPage(browser, name);
      pages.push(page);
      return page;
    };
    try {
      // Two publishers, single-layer VP8 (and Opus), small to spare the machine.
      for (const name of ['alice', 'bob']) {
        const page = await open(name);
        const answer = await room.publish(name, await page.call<string>('sfuTest.publishOffer(false, 320, 240)'));
        await page.call(`sfuTest.acceptAnswer(${JSON.stringify(answer)})`);
      }
      const [alicePage, bobPage] = pages as [TestPage, TestPage];
      const carolPage = await open('carol');
      const carol = pageSubscriber(room, 'carol', carolPage);
      const inbound = (): Promise<Inbound> => carolPage.call<Inbound>('sfuTest.inboundBySsrc()');
      /** Waits until each SSRC decoded 20 frames more than now. */
      const decoding = async (ssrcs: number[], what: string): Promise<void> => {
        const now = await inbound();
        await until(inbound, (s) => ssrcs.every((ssrc) => (s[ssrc]?.frames ?? 0) >= (now[ssrc]?.frames ?? 0) + 20), what, 30_000);
      };

      await carol.subscribe('alice');
      await until(async () => carol.answered, (n) => n === 1, 'the first answer');
      const [aliceVideo] = videoSsrcs(carol.offers[0]!, 'alice');
      await decoding([aliceVideo!], "alice's video at carol");

      await carol.subscribe('bob');
      await until(async () => carol.answered, (n) => n === 2, 'the second answer');
      expect(carol.offers[1]!.tracks.map((t) => `${t.publisher} ${t.kind}`).sort()).toEqual(['alice audio', 'alice video', 'bob audio', 'bob video']);
      const [bobVideo] = videoSsrcs(carol.offers[1]!, 'bob');
      await decoding([aliceVideo!, bobVideo!], 'both videos at carol');
      expect(sfu.engine.counts().subscribers).toBe(1);

      // bob adds a second video track on his publisher connection: carol's session re-offers with it.
      const republished = await room.publish('bob', await bobPage.call<string>('sfuTest.addVideo(320, 240)'));
      await bobPage.call(`sfuTest.acceptAnswer(${JSON.stringify(republished)})`);
      expect(room.published().find((p) => p.publisher === 'bob')!.tracks.filter((t) => t.kind === 'video')).toHaveLength(2);
      await until(async () => carol.answered, (n) => n === 3, 'the answer to the offer with bob\'s second video');
      const bobVideos = videoSsrcs(carol.offers[2]!, 'bob');
      expect(bobVideos).toHaveLength(2);
      expect(new Set(carol.offers[2]!.tracks.filter((t) => t.publisher === 'bob').map((t) => t.trackMid)).size).toBe(3);
      await decoding([aliceVideo!, ...bobVideos], "alice's and bob's two videos at carol");

      // alice leaves: an offer without her sections; bob's videos keep being decoded.
      sfu.leave('s', 'alice');
      await alicePage.page.context().close();
      await until(async () => carol.answered, (n) => n === 4, 'the answer to the offer without alice');
      expect(carol.offers[3]!.tracks.every((t) => t.publisher === 'bob')).toBe(true);
      const aliceBefore = (await inbound())[aliceVideo!]?.frames ?? 0;
      await decoding(bobVideos, "bob's videos after alice left");
      expect((await inbound())[aliceVideo!]?.frames ?? 0).toBeLessThanOrEqual(aliceBefore + 1);

      // dave publishes and carol subscribes: his tracks take the sections alice left (inactive in
      // the answered offer), so the m-lines stay five, and Chromium fires ontrack for them again.
      const davePage = await open('dave');
      const daveAnswer = await room.publish('dave', await davePage.call<string>('sfuTest.publishOffer(false, 320, 240)'));
      await davePage.call(`sfuTest.acceptAnswer(${JSON.stringify(daveAnswer)})`);
      await carol.subscribe('dave');
      await until(async () => carol.answered, (n) => n === 5, 'the answer to the offer with dave');
      const fifth = carol.offers[4]!;
      const aliceMids = carol.offers[1]!.tracks.filter((t) => t.publisher === 'alice').map((t) => t.mid).sort();
      expect(fifth.tracks.filter((t) => t.publisher === 'dave').map((t) => t.mid).sort()).toEqual(aliceMids);
      expect(fifth.sdp.split('\r\n').filter((l) => l.startsWith('m='))).toHaveLength(5);
      const [daveVideo] = videoSsrcs(fifth, 'dave');
      await decoding([daveVideo!, ...bobVideos], "dave's video in alice's old section, and bob's");
      const ontrack = await carolPage.call<{ mid: string; kind: string }[]>('sfuTest.ontrack');
      expect(ontrack.filter((t) => aliceMids.includes(t.mid))).toHaveLength(4); // twice each: alice's, then dave's

      // bob stops his second video (re-publishing with its section at port 0): carol's session drops it.
      const stopped = await room.publish('bob', await bobPage.call<string>('sfuTest.stopLastVideo()'));
      await bobPage.call(`sfuTest.acceptAnswer(${JSON.stringify(stopped)})`);
      expect(room.published().find((p) => p.publisher === 'bob')!.tracks.filter((t) => t.kind === 'video')).toHaveLength(1);
      await until(async () => carol.answered, (n) => n === 6, "the answer to the offer without bob's second video");
      const sixth = carol.offers[5]!;
      expect(sixth.tracks.filter((t) => t.publisher === 'bob' && t.kind === 'video').map((t) => t.trackMid)).toEqual([carol.offers[1]!.tracks.find((t) => t.publisher === 'bob' && t.kind === 'video')!.trackMid]);
      await decoding([daveVideo!, bobVideos[0]!], "dave's and bob's first video after bob's second ended");

      expect(carol.errors).toEqual([]);
      expect(sfu.engine.counts().subscribers).toBe(1);
      console.log(`carol: ${carol.offers.length} offers on one connection; ontrack ${JSON.stringify(ontrack)}`);
    } finally {
      for (const name of ['carol', 'bob', 'alice', 'dave']) sfu.leave('s', name);
      await Promise.all(pages.map((p) => p.page.context().close().catch(() => undefined)));
    }
    expect(sfu.counts()).toEqual({ rooms: 0, publishers: 0, subscribers: 0 });
    sfu.close();
  }, 150_000);
});
