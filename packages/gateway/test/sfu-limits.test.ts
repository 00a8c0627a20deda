/**
 * The SFU's limits through the gateway: a WHIP publisher or WHEP viewer the SFU refuses as
 * `over-capacity` (SfuLimits) gets 503 with Retry-After, as for the gateway's own
 * maxSessions; the sessions already in keep their media, and a slot frees when one ends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { publishingPeer, viewingPeer } from '@pinhole/test-kit/media-peer';
import { rtp, vp8Key } from '@pinhole/test-kit/rtp';
import { until } from '@pinhole/test-kit/wait';
import { startWhipServer, type WhipServer } from './support.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function post(url: string, offer: string, token: string): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/sdp' }, body: offer });
}

async function refused(response: Response, limit: string): Promise<void> {
  expect(response.status).toBe(503);
  expect(response.headers.get('retry-after')).toBe('10');
  const body = (await response.json()) as { code: string; message: string };
  expect(body.code).toBe('over-capacity');
  expect(body.message).toContain(limit);
}

async function server(limits: { publishersPerRoom?: number; subscribersPerRoom?: number }): Promise<WhipServer> {
  const s = await startWhipServer({}, {}, { limits });
  cleanups.push(() => s.close());
  return s;
}

/** A WHIP publisher sending VP8 until the test ends. */
async function publish(s: WhipServer, room: string): Promise<{ id: string; location: string }> {
  const publisher = await publishingPeer();
  cleanups.push(() => publisher.close());
  const response = await post(s.endpoint(room), publisher.offer, await s.token(room));
  expect(response.status, await response.clone().text()).toBe(201);
  await publisher.accept(await response.text());
  let seq = 0;
  const timer = setInterval(() => publisher.send(rtp({ ssrc: publisher.ssrc, seq: seq++, ts: seq * 3000, payload: vp8Key() })), 10);
  cleanups.push(() => clearInterval(timer));
  const location = response.headers.get('location')!;
  return { id: location.split('/').pop()!, location };
}

describe('SFU limits through the gateway', () => {
  it('WHIP over publishersPerRoom: 503 over-capacity with Retry-After; in after the first publisher is deleted', async () => {
    const s = await server({ publishersPerRoom: 1 });
    const first = await publish(s, 'stage');
    const token = await s.token('stage');
    const second = await publishingPeer(0x4444);
    cleanups.push(() => second.close());
    await refused(await post(s.endpoint('stage'), second.offer, token), 'publishersPerRoom 1');
    expect(s.sfu.room('stage').publisherCount()).toBe(1);
    expect(s.gateway.stats().sessions).toBe(1);
    expect((await fetch(s.hub.url + first.location, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await post(s.endpoint('stage'), second.offer, token)).status).toBe(201);
  });

  it('WHEP over subscribersPerRoom: 503 over-capacity with Retry-After; the viewer in keeps its media', async () => {
    const s = await server({ subscribersPerRoom: 1 });
    const { id } = await publish(s, 'stage');
    const token = await s.token('stage', ['join']);
    const url = s.whep('stage', id);
    const v1 = await viewingPeer();
    cleanups.push(() => v1.close());
    const ok = await post(url, v1.offer, token);
    expect(ok.status).toBe(201);
    v1.accept(await ok.text());
    const v2 = await viewingPeer();
    cleanups.push(() => v2.close());
    await refused(await post(url, v2.offer, token), 'subscribersPerRoom 1');
    const total = (): number => [...v1.received.values()].reduce((a, b) => a + b, 0);
    await until(() => total() > 0, 10_000, 'media at the first viewer');
    const before = total();
    await until(() => total() > before + 10, 10_000, 'media still flowing to the first viewer');
  });
});
