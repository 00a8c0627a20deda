/**
 * The media server on /metrics (issue 15 item 7): pinhole_sfu_* read from a real Sfu at each
 * scrape — rooms, publishers and subscribers as gauges, packets and bytes received and
 * forwarded, keyframe requests sent and received, and each room's publishers' bitrate; all zero before the SFU
 * is loaded and back to zero (gauges) when everyone has left. A node-datachannel publisher and
 * a WHEP-style viewer on the default engine.
 */
import { afterEach, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { Sfu } from '@pinhole/sfu';
import { publishingPeer, viewingPeer } from '@pinhole/test-kit/media-peer';
import { rtp, vp8Key } from '@pinhole/test-kit/rtp';
import { until } from '@pinhole/test-kit/wait';
import { registerSfuMetrics, SFU_METRIC_NAMES } from '../src/metrics.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0).reverse()) fn();
});

async function scrape(registry: Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

it('counts what the SFU moves, per scrape; zero before it is loaded; gauges back to zero when all have left', async () => {
  const registry = new Registry();
  const loaded: { sfu?: Sfu } = {};
  registerSfuMetrics(registry, () => loaded.sfu);
  const before = await scrape(registry);
  for (const name of SFU_METRIC_NAMES.filter((n) => n !== 'pinhole_sfu_room_bitrate_bits_per_second')) expect(before.get(name), name).toBe(0);

  const sfu = (loaded.sfu = new Sfu());
  cleanup.push(() => sfu.close());
  const room = sfu.room('stage');
  const publisher = await publishingPeer();
  cleanup.push(() => publisher.close());
  await publisher.accept(await room.publish('alice', publisher.offer));
  let seq = 0;
  const pump = setInterval(() => publisher.send(rtp({ ssrc: publisher.ssrc, seq: seq++, ts: seq * 3000, payload: vp8Key() })), 10);
  cleanup.push(() => clearInterval(pump));
  const viewer = await viewingPeer();
  cleanup.push(() => viewer.close());
  viewer.accept(await room.view('viewer-1', 'alice', viewer.offer));
  await until(() => [...viewer.received.values()].some((n) => n > 20), 15_000, 'RTP at the viewer');

  // The room's bitrate is sampled every feedback interval (500 ms).
  let m = await scrape(registry);
  for (const deadline = Date.now() + 5_000; !(m.get('pinhole_sfu_room_bitrate_bits_per_second{room="stage"}')! > 0) && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 100));
    m = await scrape(registry);
  }
  expect(m.get('pinhole_sfu_room_bitrate_bits_per_second{room="stage"}')).toBeGreaterThan(0);
  expect(m.get('pinhole_sfu_rooms')).toBe(1);
  expect(m.get('pinhole_sfu_publishers')).toBe(1);
  expect(m.get('pinhole_sfu_subscribers')).toBe(1);
  expect(m.get('pinhole_sfu_received_packets_total')).toBeGreaterThan(20);
  expect(m.get('pinhole_sfu_received_bytes_total')).toBeGreaterThan(m.get('pinhole_sfu_received_packets_total')! * 12);
  expect(m.get('pinhole_sfu_forwarded_packets_total')).toBeGreaterThan(20);
  expect(m.get('pinhole_sfu_forwarded_bytes_total')).toBeGreaterThan(m.get('pinhole_sfu_forwarded_packets_total')! * 12);
  // The viewer's start asks the publisher for a keyframe.
  expect(m.get('pinhole_sfu_keyframe_requests_total')).toBeGreaterThanOrEqual(1);
  // The viewer's own PLI (lost picture) is counted as received (NACKs: sfu/test/nack.test.ts).
  viewer.requestKeyframes();
  for (let i = 0; i < 50 && !(m.get('pinhole_sfu_keyframe_requests_received_total')! >= 1); i++) {
    await new Promise((r) => setTimeout(r, 100));
    m = await scrape(registry);
  }
  expect(m.get('pinhole_sfu_keyframe_requests_received_total')).toBeGreaterThanOrEqual(1);

  sfu.leave('stage', 'viewer-1');
  sfu.leave('stage', 'alice');
  m = await scrape(registry);
  expect([m.get('pinhole_sfu_rooms'), m.get('pinhole_sfu_publishers'), m.get('pinhole_sfu_subscribers')]).toEqual([0, 0, 0]);
  expect([...m.keys()].some((k) => k.startsWith('pinhole_sfu_room_bitrate_bits_per_second{'))).toBe(false);
  // Counters keep what was moved.
  expect(m.get('pinhole_sfu_forwarded_packets_total')).toBeGreaterThan(20);
});
