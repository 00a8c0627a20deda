/**
 * A WHEP viewer's layer follows its downlink (issue 16): Chromium publishes three-layer VP8
 * simulcast over WHIP into a real `pinhole serve`, another Chromium watches over WHEP from a
 * network-namespace host whose downlink is limited by a token bucket (`tc tbf` on its link's
 * end in the public segment). The viewer's own REMB (Chromium's receive-side estimate, as the
 * link's queue and drops show it) drives the SFU's layer policy: the viewer decodes the low
 * layer (320 px wide); with the limit lifted it climbs again, to the high one (1280 px) on a
 * quiet machine.
 * Everything runs in namespaces (ARCHITECTURE.md "Test topologies"): the hub on the public
 * segment, each browser on a host of its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintToken } from '@pinhole/server';
import { bundleCli } from '@pinhole/test-kit/cli-bundle';
import { chromiumIn, type NamespacedChromium } from '@pinhole/test-kit/netns/chromium';
import { PUBLIC_IP, Topology, netnsUnavailable, type Spawned } from '@pinhole/test-kit/netns/topology';

const SECRET = 'simulcast-whep-test-secret-0123456789';
const HUB = `http://${PUBLIC_IP}:8443`;
const ENTRY = new URL('./browser/simulcast-entry.ts', import.meta.url);
/** The page is http://pinhole.test (test-kit netns/chromium.ts): getUserMedia needs it counted as secure. */
const SECURE_PAGE = '--unsafely-treat-insecure-origin-as-secure=http://pinhole.test';
/** The viewer's downlink while limited: room for "q" (320 px, ≈ 150–200 kbit/s), not for "h". */
const LIMIT = '300kbit';
/** How long the limited viewer is watched. */
const LIMITED_MS = 8_000;
/**
 * The longest climb from "q" to "f" once the limit is lifted: two steps up, each after a hold of
 * headroom (layer-policy.ts UP_HOLD_MS, doubled by each up-switch the limited link undid).
 */
const CLIMB_MS = 110_000;

const unavailable = netnsUnavailable();
if (unavailable) console.warn(`netns-simulcast: skipped, ${unavailable}`);

interface Presented {
  /** Frames presented by width. */
  widths: Record<number, number>;
  /** The last frame's width. */
  last: number;
}

interface Inbound {
  state: string;
  frames: number;
  width: number;
  bytes: number;
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let last = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 500));
    last = await read();
  }
  return last;
}

describe.skipIf(unavailable !== undefined)(`a WHEP viewer's simulcast layer follows its downlink${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let t: Topology;
  let dataDir: string;
  let cli: string;
  const browsers: NamespacedChromium[] = [];
  // A topology per attempt, so a retry starts from fresh namespaces.
  beforeEach(async () => {
    cli = await bundleCli();
    t = Topology.create();
    dataDir = mkdtempSync(join(tmpdir(), 'pinhole-simulcast-'));
  }, 60_000);
  afterEach(async () => {
    await Promise.all(browsers.splice(0).map((b) => b.close()));
    await t?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A hub metric's value (summed over label sets starting with `labels`), scraped from inside pub. */
  async function metric(name: string, labels = ''): Promise<number> {
    const scrape = t.spawn(t.pub, [process.execPath, '-e', `fetch('${HUB}/metrics').then((r) => r.text()).then((t) => console.log('METRICS ' + JSON.stringify(t)))`]);
    const text = JSON.parse((await scrape.waitFor(/^METRICS (.*)$/m, 15_000))[1]!) as string;
    await scrape.stop();
    return text
      .split('\n')
      .filter((l) => l.split(/[{ ]/)[0] === name && l.startsWith(`${name}${labels}`))
      .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
  }

  it('Chromium publishes q/h/f over WHIP; a WHEP viewer limited to 300 kbit/s presents 320 px, and climbs toward 1280 px once the limit is lifted', async () => {
    const hub: Spawned = t.spawn(t.pub, [process.execPath, cli, 'serve', '--host', PUBLIC_IP, '--port', '8443', '--no-tls', '--turn-port', '0', '--data-dir', dataDir, '--secret', SECRET]);
    await hub.waitFor(/"msg":"hub listening"/);
    const studio = t.host('studio', 20);
    const screen = t.host('screen', 21);
    try {
      const publisher = await chromiumIn(studio, ENTRY, [SECURE_PAGE]);
      browsers.push(publisher);
      const viewer = await chromiumIn(screen, ENTRY, [SECURE_PAGE]);
      browsers.push(viewer);

      const publishToken = await mintToken(SECRET, { identity: 'studio', room: 'stage', perms: ['publish'] }, 600);
      await publisher.call(`publish(${JSON.stringify(`${HUB}/v1/whip/stage`)}, ${JSON.stringify(publishToken)})`);
      // The SFU's REMB raises Chromium from its 300 kbit/s start (q only) to all three layers.
      const layers = await until(
        () => publisher.call<{ rid?: string; width?: number; frames?: number }[]>('outbound()'),
        (out) => ['q', 'h', 'f'].every((rid) => (out.find((o) => o.rid === rid)?.frames ?? 0) > 0),
        'the publisher to encode q, h and f',
        30_000,
      );
      expect(Object.fromEntries(layers.map((o) => [o.rid, o.width]))).toEqual({ q: 320, h: 640, f: 1280 });

      t.limitDownlink(screen, LIMIT);
      const viewToken = await mintToken(SECRET, { identity: 'screen', room: 'stage', perms: ['join'] }, 600);
      const limited = Date.now();
      await viewer.call(`play(${JSON.stringify(`${HUB}/v1/whep/stage`)}, ${JSON.stringify(viewToken)})`);
      const presented = (since: number): Promise<Presented> => viewer.call<Presented>(`presentedSince(${since})`);
      // The viewer starts on the highest layer; its REMB falls with the link's queue and drops, and the SFU moves it down.
      await until(() => presented(limited), (p) => p.last === 320, 'the limited viewer to present the low layer (320 px)', 60_000);
      const downAfter = Date.now() - limited;
      // It stays on the low layer while limited (after its hold the policy may try "h", which the link cannot carry).
      const watched = Date.now();
      const before = await viewer.call<Inbound>('inbound()');
      await new Promise((r) => setTimeout(r, LIMITED_MS));
      const low = await presented(watched);
      const after = await viewer.call<Inbound>('inbound()');
      const limitedRate = ((after.bytes - before.bytes) * 8 * 1000) / LIMITED_MS;
      const frames = (p: Presented, width: number): number => p.widths[width] ?? 0;
      expect(frames(low, 320)).toBeGreaterThan(frames(low, 640) + frames(low, 1280));
      expect(frames(low, 1280)).toBe(0);
      expect(await metric('pinhole_sfu_bandwidth_layer_switches_total')).toBeGreaterThanOrEqual(1);

      // Lifted: the estimate grows with what arrives, and the policy climbs (a hold of headroom
      // before each step up) toward "f". It must leave the low layer; reaching "f" is reported,
      // not required: on a loaded machine Chromium's receive estimate stays too low for it, and
      // the first "f" frames may be undone at once (docs/whip-whep.md, "What a viewer gets").
      t.limitDownlink(screen, undefined);
      const lifted = Date.now();
      let firstAbove: number | undefined;
      const high = await until(
        () => presented(lifted),
        (p) => {
          if (firstAbove === undefined && frames(p, 640) + frames(p, 1280) > 0) firstAbove = Date.now() - lifted;
          return frames(p, 1280) > 0;
        },
        'the viewer to present the high layer (1280 px)',
        CLIMB_MS,
      ).catch(() => presented(lifted));
      const upAfter = Date.now() - lifted;
      expect(frames(high, 640) + frames(high, 1280)).toBeGreaterThan(0);
      expect((await viewer.call<Inbound>('inbound()')).state).toBe('connected');
      console.info(
        `WHEP viewer limited to ${LIMIT}: 320 px ${downAfter} ms after its POST; frames presented over the next ${LIMITED_MS} ms by width ` +
          `${JSON.stringify(low.widths)} at ${Math.round(limitedRate / 1000)} kbit/s of video; limit lifted: above 320 px after ${firstAbove} ms, ` +
          `${frames(high, 1280) > 0 ? `1280 px after ${upAfter} ms` : `no 1280 px within ${CLIMB_MS} ms`} ` +
          `(frames by width ${JSON.stringify(high.widths)}); ${await metric('pinhole_sfu_bandwidth_layer_switches_total')} layer switches by bandwidth`,
      );
    } catch (err) {
      console.error(`hub output:\n${hub.output().slice(-4000)}`);
      throw err;
    }
  }, 180_000);
});
