/**
 * NACK with a real browser: a Chromium subscriber behind a relay that loses one in 25 of the
 * SFU's video packets NACKs them (RFC 4585, as the SFU's offer allows), the SFU resends them
 * from its history, and Chromium's receive stats count almost none lost.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ssrcOfSection } from '@pinhole/test-kit/media-peer';
import { until } from '@pinhole/test-kit/wait';
import { Sfu, type SessionOffer } from '../src/index.js';
import { launchChromium, openPage, type TestPage } from './support/pages.js';
import { lossyRelay, type LossyRelay } from './support/lossy-relay.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

type VideoIn = { frames: number; lost: number; nacks: number; received: number };

describe('NACK with a Chromium subscriber', () => {
  it('resends the video packets a lossy link lost: Chromium NACKs them and counts almost none lost', async () => {
    const sfu = new Sfu();
    const room = sfu.room('n');
    const pages: TestPage[] = [];
    let relay: LossyRelay | undefined;
    try {
      const alice = await openPage(browser, 'alice');
      pages.push(alice);
      await alice.call(`sfuTest.acceptAnswer(${JSON.stringify(await room.publish('alice', await alice.call<string>('sfuTest.publishOffer(false, 320, 240)')))})`);
      const carol = await openPage(browser, 'carol');
      pages.push(carol);
      const offers: SessionOffer[] = [];
      let answered = false;
      await room.subscribe('carol', 'alice', {
        offer: (offer) => {
          offers.push(offer);
          void (async () => {
            // The page's own candidates are left out: the SFU must reach it through the relay.
            const answer = (await carol.call<string>(`sfuTest.answerSession(${JSON.stringify(offer.sdp)})`)).replace(/a=candidate:[^\r\n]*\r\n/g, '');
            await room.acceptAnswer('carol', answer);
            answered = true;
          })();
        },
        candidates: (candidates) => {
          void (async () => {
            relay = await lossyRelay(candidates, 96, 25);
            await carol.call(`sfuTest.addCandidates(${JSON.stringify([relay.candidate(candidates[0]!.sdpMid)])})`);
          })();
        },
        closed: () => undefined,
      });
      await until(() => answered && relay !== undefined, 20_000, "carol's answer and the relay");
      const video = offers[0]!.tracks.find((t) => t.kind === 'video')!;
      const ssrc = ssrcOfSection(offers[0]!.sdp, video.mid)!;
      const stats = (): Promise<VideoIn> =>
        carol.call<VideoIn>(
          `(async () => { let v = { frames: 0, lost: 0, nacks: 0, received: 0 }; (await sfuTest.pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.ssrc === ${ssrc}) v = { frames: s.framesDecoded ?? 0, lost: s.packetsLost ?? 0, nacks: s.nackCount ?? 0, received: s.packetsReceived ?? 0 }; }); return v; })()`,
        );
      const deadline = Date.now() + 40_000;
      let s = await stats();
      while (!(s.frames > 100 && relay!.dropped >= 20) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        s = await stats();
      }
      await new Promise((r) => setTimeout(r, 1000)); // the last drops' NACK round trips
      s = await stats();
      const { nacks, nackedPackets, retransmittedPackets } = sfu.counters;
      console.log(`relay dropped ${relay!.dropped}, resent through it ${relay!.resent}; chromium ${JSON.stringify(s)}; sfu nacks ${nacks}, nacked ${nackedPackets}, retransmitted ${retransmittedPackets}`);
      expect(relay!.dropped).toBeGreaterThanOrEqual(20);
      expect(s.frames).toBeGreaterThan(100);
      expect(s.nacks).toBeGreaterThan(0);
      expect(nacks).toBeGreaterThan(0);
      expect(retransmittedPackets).toBeGreaterThanOrEqual(relay!.dropped * 0.8);
      // Each NACK names about the packets lost (werift's parser made ≈ 21 of each: src/nack.ts).
      expect(nackedPackets).toBeLessThanOrEqual(relay!.dropped * 3);
      expect(relay!.resent).toBeGreaterThanOrEqual(relay!.dropped * 0.8);
      expect(s.lost).toBeLessThanOrEqual(relay!.dropped * 0.2);
    } finally {
      sfu.leave('n', 'carol');
      sfu.leave('n', 'alice');
      relay?.close();
      await Promise.all(pages.map((p) => p.page.context().close().catch(() => undefined)));
      sfu.close();
    }
  }, 120_000);
});
