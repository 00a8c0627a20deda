/**
 * WHEP over HTTP (draft-ietf-wish-whep: the player offers recvonly audio + video, the server
 * answers) against a real hub, gateway and SFU: a node-datachannel publisher comes in over
 * WHIP, node-datachannel viewers play it over WHEP — the session's life (201 + Location/ETag/
 * Link, RTP with the viewer's payload type and the answer's SSRC, trickle PATCH, DELETE), the
 * featured publisher, viewers ending with their publisher, and the bad-input matrix while a
 * bystander viewer's media keeps flowing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publishingPeer, viewingPeer, type ViewingPeer } from '@pinhole/test-kit/media-peer';
import { rtp, vp8Key } from '@pinhole/test-kit/rtp';
import { until } from '@pinhole/test-kit/wait';
import { TURN_URL, startWhipServer, type WhipServer } from './support.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Publishes VP8 over WHIP until the test ends; returns the session's id (its peer id in the room) and Location. */
async function publish(server: WhipServer, room: string): Promise<{ id: string; location: string }> {
  const publisher = await publishingPeer();
  cleanups.push(() => publisher.close());
  const token = await server.token(room);
  const response = await fetch(server.endpoint(room), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/sdp' },
    body: publisher.offer,
  });
  expect(response.status, await response.clone().text()).toBe(201);
  await publisher.accept(await response.text());
  let seq = 0;
  const timer = setInterval(() => publisher.send(rtp({ ssrc: publisher.ssrc, seq: seq++, ts: seq * 3000, payload: vp8Key() })), 10);
  cleanups.push(() => clearInterval(timer));
  const location = response.headers.get('location')!;
  return { id: location.split('/').pop()!, location };
}

interface Watching {
  viewer: ViewingPeer;
  response: Response;
  answer: string;
  location: string;
  /** The video SSRC the answer announces. */
  ssrc: number;
}

async function watch(server: WhipServer, url: string, token: string): Promise<Watching> {
  const viewer = await viewingPeer(100, 109);
  cleanups.push(() => viewer.close());
  const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/sdp' }, body: viewer.offer });
  expect(response.status, await response.clone().text()).toBe(201);
  const answer = await response.text();
  viewer.accept(answer);
  const ssrc = Number(/m=video[^]*?a=ssrc:(\d+)/.exec(answer)![1]);
  return { viewer, response, answer, location: response.headers.get('location')!, ssrc };
}

const videoAt = (w: Watching): number => w.viewer.received.get(w.ssrc) ?? 0;

async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await response.json()) as { type: string; code: string; message: string };
  expect(body.type).toBe('error');
  expect(response.headers.get('content-type')).toBe('application/json');
  return { status: response.status, code: body.code, message: body.message };
}

describe('WHEP session life', () => {
  let server: WhipServer;
  beforeAll(async () => {
    server = await startWhipServer();
  });
  afterAll(() => server.close());

  it("POST /v1/whep/{room}/{participant} → 201 with the answer, Location, ETag, Link; RTP with the viewer's payload type and the answer's SSRC; PATCH; DELETE", async () => {
    const { id } = await publish(server, 'stage');
    const sessions = server.gateway.stats().sessions; // 1, or more on a retry while an earlier publisher times out
    const token = await server.token('stage', ['join'], 'player');
    const w = await watch(server, server.whep('stage', id), token);
    expect(w.response.headers.get('content-type')).toBe('application/sdp');
    expect(w.location).toMatch(/^\/v1\/resources\/[A-Za-z0-9_-]{22}$/);
    expect(w.response.headers.get('etag')).toMatch(/^"[0-9a-f]{16}"$/);
    expect(w.response.headers.get('accept-patch')).toBe('application/trickle-ice-sdpfrag');
    expect(w.response.headers.get('link')).toContain(`<${TURN_URL}>; rel="ice-server"; username="`);
    // The publisher sends VP8 only: the video section carries it on the viewer's payload type, the audio section is inactive.
    expect(w.answer).toMatch(/a=rtpmap:100 VP8\/90000/);
    expect(w.answer).toMatch(/m=audio[^]*a=inactive/);

    await until(() => videoAt(w) >= 30, 15_000, 'the WHIP stream at the WHEP viewer');
    expect([...w.viewer.received.keys()]).toEqual([w.ssrc]);
    expect(w.viewer.payloadTypes.get(w.ssrc)).toEqual(new Set([100]));
    expect(server.gateway.stats()).toMatchObject({ sessions: sessions + 1, viewers: { stage: 1 } });
    expect(server.gateway.viewerCount('stage')).toBe(1);
    expect(server.sfu.room('stage').counts()).toEqual({ publishers: 1, subscriptions: 0 }); // not a participant

    const url = server.hub.url + w.location;
    const ufrag = /a=ice-ufrag:(\S+)/.exec(w.viewer.offer)![1]!;
    const pwd = /a=ice-pwd:(\S+)/.exec(w.viewer.offer)![1]!;
    const frag = (u: string, p: string): string =>
      `a=ice-ufrag:${u}\r\na=ice-pwd:${p}\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:9 1 udp 2122260223 127.0.0.1 9 typ host\r\na=end-of-candidates\r\n`;
    const patch = (body: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(url, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/trickle-ice-sdpfrag', ...headers }, body });
    expect((await patch(frag(ufrag, pwd), { 'if-match': w.response.headers.get('etag')! })).status).toBe(204);
    expect(await errorOf(await patch(frag('newufrag', 'newpassword0123456789ab'), { 'if-match': '*' }))).toMatchObject({ status: 422, code: 'ice-restart-unsupported' });
    // Only a token with `join` in the room may end it.
    expect(await errorOf(await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${await server.token('elsewhere', ['join'])}` } }))).toMatchObject({ status: 403 });

    const before = videoAt(w);
    await until(() => videoAt(w) >= before + 20, 10_000, 'media after the PATCHes');
    expect((await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect(server.gateway.stats()).toMatchObject({ sessions, viewers: {}, ended: { deleted: 1 } });
    expect(server.gateway.viewerCount('stage')).toBe(0);
    expect(server.sfu.counts()).toMatchObject({ subscribers: 0 });
    expect(await errorOf(await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }))).toMatchObject({ status: 404 });
  });

  it('POST /v1/whep/{room} plays the featured publisher: the most recently started one with video', async () => {
    const first = await publish(server, 'hall');
    const second = await publish(server, 'hall');
    const token = await server.token('hall', ['join']);
    const w = await watch(server, server.whep('hall'), token);
    await until(() => videoAt(w) >= 20, 15_000, 'the featured stream');
    const room = server.sfu.room('hall');
    expect(room.viewerCount(second.id)).toBe(1);
    expect(room.viewerCount(first.id)).toBe(0);
  });

  it("a viewer's session ends with its publisher (then 404s), and when its own transport closes", async () => {
    // A server of its own: other tests' publishers end (media-ended) on their own schedule.
    const server = await startWhipServer();
    cleanups.push(() => server.close());
    const pub = await publish(server, 'live');
    const token = await server.token('live', ['join']);
    const a = await watch(server, server.whep('live', pub.id), token);
    const b = await watch(server, server.whep('live'), token);
    await until(() => videoAt(a) >= 10 && videoAt(b) >= 10, 15_000, 'media at both viewers');
    const endedBefore = server.gateway.stats().ended['media-ended'];

    // b's transport goes away (DTLS close_notify): its session ends, a's does not.
    const closedAt = Date.now();
    b.viewer.close();
    await until(() => server.gateway.viewerCount('live') === 1, 40_000, "b's session to end with its transport");
    console.log(`a closed viewer transport noticed after ${Date.now() - closedAt} ms`);
    expect(server.gateway.stats().ended['media-ended']).toBe(endedBefore + 1);
    expect((await fetch(server.hub.url + b.location, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status).toBe(404);

    const publisherToken = await server.token('live');
    expect((await fetch(server.hub.url + pub.location, { method: 'DELETE', headers: { authorization: `Bearer ${publisherToken}` } })).status).toBe(200);
    await until(() => server.gateway.viewerCount('live') === 0, 5_000, 'the viewer to end with its publisher');
    expect(server.gateway.stats().ended['media-ended']).toBe(endedBefore + 2);
    expect(await errorOf(await fetch(server.hub.url + a.location, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }))).toMatchObject({ status: 404 });
    expect(server.sfu.room('live').empty).toBe(true);
  }, 60_000);
});

describe('WHEP bad input: a clear status and reason, other sessions undisturbed', () => {
  let server: WhipServer;
  let bystander: Watching;
  let publisherId: string;
  /** A server per test (a retry must not meet the sessions of a failed attempt), with a bystander viewer. */
  const withBystander = async (): Promise<void> => {
    server = await startWhipServer({ maxSessions: 3 });
    cleanups.push(() => server.close());
    publisherId = (await publish(server, 'stage')).id;
    bystander = await watch(server, server.whep('stage', publisherId), await server.token('stage', ['join']));
    await until(() => videoAt(bystander) >= 10, 15_000, 'media at the bystander');
  };
  const stillFlowing = async (): Promise<void> => {
    const before = videoAt(bystander);
    await until(() => videoAt(bystander) >= before + 20, 10_000, 'media at the bystander after the refusals');
    expect(server.gateway.stats()).toMatchObject({ sessions: 2, viewers: { stage: 1 } });
  };
  const post = (url: string, body: string, headers: Record<string, string>): Promise<Response> =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp', ...headers }, body });

  it('credentials 401/403, unknown participant or empty room 404, bad participant 400, no codec 406, not SDP 400, wrong type 415, over capacity 503', async () => {
    await withBystander();
    const viewer = await viewingPeer();
    cleanups.push(() => viewer.close());
    const url = server.whep('stage', publisherId);
    const auth = { authorization: `Bearer ${await server.token('stage', ['join'])}` };

    const none = await post(url, viewer.offer, {});
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(await errorOf(none)).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await errorOf(await post(url, viewer.offer, { authorization: 'Bearer nope' }))).toMatchObject({ status: 401 });
    const other = await errorOf(await post(url, viewer.offer, { authorization: `Bearer ${await server.token('backstage', ['join'])}` }));
    expect(other).toMatchObject({ status: 403, code: 'forbidden' });
    expect(other.message).toContain('room stage');
    expect(await errorOf(await post(url, viewer.offer, { authorization: `Bearer ${await server.token('stage', ['publish'])}` }))).toMatchObject({ status: 403 });

    const unknown = await errorOf(await post(server.whep('stage', 'nobody-here'), viewer.offer, auth));
    expect(unknown).toMatchObject({ status: 404, code: 'not-found' });
    expect(unknown.message).toContain('nobody-here');
    const empty = await errorOf(await post(server.whep('empty'), viewer.offer, { authorization: `Bearer ${await server.token('empty', ['join'])}` }));
    expect(empty).toMatchObject({ status: 404, code: 'not-found' });
    expect(empty.message).toContain('empty');
    expect(server.sfu.counts().rooms).toBe(1); // the refusal left no room behind
    expect(await errorOf(await post(server.whep('stage', 'bad!id'), viewer.offer, auth))).toMatchObject({ status: 400, code: 'bad-participant' });

    const noCodec = await errorOf(await post(url, viewer.offer.replace(/VP8\/90000/g, 'H264/90000'), auth));
    expect(noCodec).toMatchObject({ status: 406, code: 'unsupported-codec' });
    expect(noCodec.message).toContain('video/VP8');
    expect(await errorOf(await post(url, '{"sdp":"v=0"}', auth))).toMatchObject({ status: 400, code: 'bad-sdp' });
    expect(await errorOf(await post(url, viewer.offer, { ...auth, 'content-type': 'text/plain' }))).toMatchObject({ status: 415 });
    const get = await fetch(url, { headers: auth });
    expect(get.headers.get('allow')).toBe('OPTIONS, POST');
    expect(await errorOf(get)).toMatchObject({ status: 405 });
    expect(server.sfu.engine.counts()).toEqual({ publishers: 1, subscribers: 1 });

    // maxSessions 3 is shared by WHIP and WHEP: the publisher, the bystander, one more viewer.
    const third = await watch(server, url, auth.authorization.slice('Bearer '.length));
    const full = await post(url, viewer.offer, auth);
    expect(full.headers.get('retry-after')).toBe('10');
    expect(await errorOf(full)).toMatchObject({ status: 503, code: 'over-capacity' });
    await fetch(server.hub.url + third.location, { method: 'DELETE', headers: auth });
    await stillFlowing();
  });

  it('CORS and OPTIONS as for WHIP: a preflight without ICE servers, an authenticated OPTIONS with them', async () => {
    server = await startWhipServer();
    cleanups.push(() => server.close());
    const pre = await fetch(server.whep('stage', 'someone'), {
      method: 'OPTIONS',
      headers: { origin: 'https://player.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://player.example');
    expect(pre.headers.get('access-control-expose-headers')).toMatch(/Location.*ETag.*Link/);
    expect(pre.headers.get('link')).toBeNull();
    const authed = await fetch(server.whep('stage'), { method: 'OPTIONS', headers: { authorization: `Bearer ${await server.token('stage', ['join'])}` } });
    expect(authed.status).toBe(204);
    expect(authed.headers.get('link')).toContain('rel="ice-server"');
    const refused = await fetch(server.whep('stage'), { method: 'OPTIONS', headers: { authorization: `Bearer ${await server.token('stage', ['publish'])}` } });
    expect(await errorOf(refused)).toMatchObject({ status: 403 });
  });
});
