/**
 * `GET /v1/whep/{room}` (docs/whip-whep.md): what a player waiting for a room — the web app's
 * watch page — needs without starting a session: whether anyone sends video there (a POST
 * would find the featured publisher) and how many watch. Real hub, gateway and SFU; a
 * node-datachannel publisher over WHIP and viewer over WHEP.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { publishingPeer, viewingPeer } from '@pinhole/test-kit/media-peer';
import { rtp, vp8Key } from '@pinhole/test-kit/rtp';
import { startWhipServer, type WhipServer } from './support.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let server: WhipServer;
beforeAll(async () => {
  server = await startWhipServer();
});
afterAll(() => server.close());

const bearer = async (room: string, perms: ('join' | 'publish')[] = ['join']): Promise<Record<string, string>> => ({ authorization: `Bearer ${await server.token(room, perms)}` });
const post = (url: string, body: string, headers: Record<string, string>): Promise<Response> => fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/sdp' }, body });

it('GET /v1/whep/{room} → 200 {room, viewers, video}, needs join in the room, and makes no room of its own', async () => {
  const room = 'lobby';
  const auth = await bearer(room);
  const status = async (): Promise<unknown> => {
    const res = await fetch(server.whep(room), { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('cache-control')).toBe('no-store');
    return res.json();
  };

  expect(await status()).toEqual({ room, viewers: 0, video: false });
  expect(server.sfu.counts().rooms).toBe(0);
  expect((await fetch(server.whep(room))).status).toBe(401);
  expect((await fetch(server.whep(room), { headers: await bearer('elsewhere') })).status).toBe(403);
  const options = await fetch(server.whep(room), { method: 'OPTIONS' });
  expect(options.headers.get('allow')).toBe('GET, OPTIONS, POST');

  // A WHIP publisher sends video: a POST now finds it.
  const publisher = await publishingPeer();
  cleanups.push(() => publisher.close());
  const published = await post(server.endpoint(room), publisher.offer, await bearer(room, ['publish']));
  expect(published.status).toBe(201);
  await publisher.accept(await published.text());
  let seq = 0;
  const timer = setInterval(() => publisher.send(rtp({ ssrc: publisher.ssrc, seq: seq++, ts: seq * 3000, payload: vp8Key() })), 10);
  cleanups.push(() => clearInterval(timer));
  expect(await status()).toEqual({ room, viewers: 0, video: true });

  const viewer = await viewingPeer();
  cleanups.push(() => viewer.close());
  const watching = await post(server.whep(room), viewer.offer, auth);
  expect(watching.status).toBe(201);
  viewer.accept(await watching.text());
  expect(await status()).toEqual({ room, viewers: 1, video: true });

  expect((await fetch(server.hub.url + watching.headers.get('location')!, { method: 'DELETE', headers: auth })).status).toBe(200);
  expect(await status()).toEqual({ room, viewers: 0, video: true });
}, 60_000);
