/**
 * WHIP over HTTP (RFC 9725) against a real hub, gateway and SFU, with a node-datachannel
 * publisher: the session's whole life (201 + Location/ETag/Link, media into the room, trickle
 * PATCH, DELETE), the media timeout, and every refusal of the bad-input matrix — each while
 * another session's media keeps flowing undisturbed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publishingPeer, subscribeSession, type PublishingPeer, type SessionPeer } from '@pinhole/test-kit/media-peer';
import { rtp, vp8Key } from '@pinhole/test-kit/rtp';
import { until } from '@pinhole/test-kit/wait';
import { TURN_URL, startWhipServer, type WhipServer } from './support.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Published {
  publisher: PublishingPeer;
  location: string;
  etag: string;
  response: Response;
}

/** POSTs a node-datachannel offer, applies the answer and keeps sending VP8 until the test ends. */
async function publish(server: WhipServer, room: string, token: string, query = ''): Promise<Published> {
  const publisher = await publishingPeer();
  cleanups.push(() => publisher.close());
  const response = await fetch(server.endpoint(room) + query, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/sdp' },
    body: publisher.offer,
  });
  expect(response.status, await response.clone().text()).toBe(201);
  await publisher.accept(await response.text());
  let seq = 0;
  const timer = setInterval(() => publisher.send(rtp({ ssrc: publisher.ssrc, seq: seq++, ts: seq * 3000, payload: vp8Key() })), 10);
  cleanups.push(() => clearInterval(timer));
  return { publisher, location: response.headers.get('location')!, etag: response.headers.get('etag')!, response };
}

/** A subscriber of the WHIP stream through the SFU room, as a room member will get it. */
async function watch(server: WhipServer, room: string, location: string, name = 'viewer'): Promise<SessionPeer> {
  const id = location.split('/').pop()!;
  const peer = await subscribeSession(server.sfu.room(room), name, id);
  cleanups.push(() => {
    peer.close();
    server.sfu.leave(room, name);
  });
  return peer;
}

const total = (peer: SessionPeer): number => [...peer.received.values()].reduce((a, b) => a + b, 0);

async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await response.json()) as { type: string; code: string; message: string };
  expect(body.type).toBe('error');
  expect(response.headers.get('content-type')).toBe('application/json');
  return { status: response.status, code: body.code, message: body.message };
}

describe('WHIP session life', () => {
  let server: WhipServer;
  beforeAll(async () => {
    server = await startWhipServer();
  });
  afterAll(() => server.close());

  it('POST → 201 with the answer, Location, ETag, Accept-Patch and the ICE servers; media reaches the room; DELETE ends it', async () => {
    const token = await server.token('stage');
    const { location, etag, response } = await publish(server, 'stage', token, '?name=Camera%201');
    expect(response.headers.get('content-type')).toBe('application/sdp');
    expect(location).toMatch(/^\/v1\/resources\/[A-Za-z0-9_-]{22}$/);
    expect(etag).toMatch(/^"[0-9a-f]{16}"$/);
    expect(response.headers.get('accept-patch')).toBe('application/trickle-ice-sdpfrag');
    const link = response.headers.get('link')!;
    expect(link).toContain(`<${TURN_URL}>; rel="ice-server"; username="`);
    expect(link).toMatch(/credential="[^"]+"; credential-type="password"/);

    const viewer = await watch(server, 'stage', location);
    await until(() => total(viewer) >= 20, 15_000, 'the WHIP stream at a subscriber');
    expect(server.gateway.stats().sessions).toBe(1);
    expect(server.sfu.counts()).toMatchObject({ publishers: 1, subscribers: 1 });

    const del = await fetch(server.hub.url + location, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(del.status).toBe(200);
    const stats = server.gateway.stats();
    expect(stats).toMatchObject({ sessions: 0, started: 1, ended: { deleted: 1 }, refused: {} });
    expect(stats.receivedPackets).toBeGreaterThanOrEqual(total(viewer));
    // The subscriber's session stays while it is in the room (empty now), and goes when it leaves.
    expect(server.sfu.counts()).toEqual({ rooms: 1, publishers: 0, subscribers: 1 });
    server.sfu.leave('stage', 'viewer');
    expect(server.sfu.counts()).toEqual({ rooms: 0, publishers: 0, subscribers: 0 });
    // Gone is gone: a second DELETE and a PATCH both find nothing.
    const again = await fetch(server.hub.url + location, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(await errorOf(again)).toMatchObject({ status: 404, code: 'not-found' });
  });

  it('PATCH trickles candidates (204); an ICE restart gets 422, a stale If-Match 412, another type 415', async () => {
    const token = await server.token('stage');
    const { publisher, location, etag } = await publish(server, 'stage', token);
    const ufrag = /a=ice-ufrag:(\S+)/.exec(publisher.offer)![1]!;
    const pwd = /a=ice-pwd:(\S+)/.exec(publisher.offer)![1]!;
    const mid = /a=mid:(\S+)/.exec(publisher.offer)![1]!;
    const url = server.hub.url + location;
    const patch = (body: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(url, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/trickle-ice-sdpfrag', ...headers }, body });
    const frag = (u: string, p: string): string =>
      `a=ice-ufrag:${u}\r\na=ice-pwd:${p}\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:${mid}\r\na=candidate:9 1 udp 2122260223 127.0.0.1 9 typ host\r\na=end-of-candidates\r\n`;

    expect((await patch(frag(ufrag, pwd), { 'if-match': etag })).status).toBe(204);
    expect((await patch(frag(ufrag, pwd))).status).toBe(204);
    expect(await errorOf(await patch(frag('newufrag', 'newpassword0123456789ab'), { 'if-match': '*' }))).toMatchObject({ status: 422, code: 'ice-restart-unsupported' });
    expect(await errorOf(await patch(frag(ufrag, pwd), { 'if-match': '"0000000000000000"' }))).toMatchObject({ status: 412, code: 'precondition-failed' });
    expect(await errorOf(await patch('a=candidate:1 1 udp\r\n'))).toMatchObject({ status: 400, code: 'bad-sdpfrag' });
    expect(await errorOf(await patch('hello'))).toMatchObject({ status: 400, code: 'bad-sdpfrag' });
    expect(await errorOf(await patch(frag(ufrag, pwd), { 'content-type': 'application/sdp' }))).toMatchObject({ status: 415 });
    const get = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('OPTIONS, POST, PATCH, DELETE');

    // None of it touched the session: it still carries media.
    const viewer = await watch(server, 'stage', location);
    await until(() => total(viewer) >= 20, 15_000, 'media after the refused PATCHes');
  });

  it('a session whose media never starts ends after the media timeout', async () => {
    const quick = await startWhipServer({ mediaTimeoutMs: 1500 });
    cleanups.push(() => quick.close());
    const publisher = await publishingPeer();
    cleanups.push(() => publisher.close());
    const response = await fetch(quick.endpoint('quiet'), {
      method: 'POST',
      headers: { authorization: `Bearer ${await quick.token('quiet')}`, 'content-type': 'application/sdp' },
      body: publisher.offer,
    });
    expect(response.status).toBe(201);
    await publisher.accept(await response.text());
    await until(() => quick.gateway.stats().ended['media-timeout'] === 1, 10_000, 'the media timeout');
    expect(quick.sfu.counts().publishers).toBe(0);
    const del = await fetch(quick.hub.url + response.headers.get('location')!, { method: 'DELETE', headers: { authorization: `Bearer ${await quick.token('quiet')}` } });
    expect(del.status).toBe(404);
  });
});

describe('WHIP bad input: a clear status and reason, other sessions undisturbed', () => {
  let server: WhipServer;
  let bystander: SessionPeer;
  beforeAll(async () => {
    server = await startWhipServer({ maxSessions: 2, maxBodyBytes: 64 * 1024 });
  });
  afterAll(() => server.close());
  /** Each test has a live session whose media must keep flowing through every refusal. */
  const withBystander = async (): Promise<void> => {
    const token = await server.token('stage');
    const { location } = await publish(server, 'stage', token);
    cleanups.push(() => fetch(server.hub.url + location, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }));
    bystander = await watch(server, 'stage', location, 'bystander');
    await until(() => total(bystander) >= 10, 15_000, 'media at the bystander');
  };
  const stillFlowing = async (): Promise<void> => {
    const before = total(bystander);
    await until(() => total(bystander) >= before + 20, 10_000, 'media at the bystander after the refusals');
    expect(server.gateway.stats().sessions).toBe(1);
  };
  const post = (room: string, body: string, headers: Record<string, string>): Promise<Response> =>
    fetch(server.endpoint(room), { method: 'POST', headers: { 'content-type': 'application/sdp', ...headers }, body });

  it('credentials: none or wrong 401 (WWW-Authenticate), another room or no publish right 403', async () => {
    await withBystander();
    const offer = (await publishingPeer().then((p) => (cleanups.push(() => p.close()), p))).offer;
    const none = await post('stage', offer, {});
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(await errorOf(none)).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await errorOf(await post('stage', offer, { authorization: 'Bearer nope' }))).toMatchObject({ status: 401 });
    expect(await errorOf(await post('stage', offer, { authorization: `Basic ${btoa('a:b')}` }))).toMatchObject({ status: 401 });
    const forged = (await server.token('stage')).slice(0, -4) + 'AAAA';
    expect(await errorOf(await post('stage', offer, { authorization: `Bearer ${forged}` }))).toMatchObject({ status: 401 });
    const other = await errorOf(await post('stage', offer, { authorization: `Bearer ${await server.token('backstage')}` }));
    expect(other).toMatchObject({ status: 403, code: 'forbidden' });
    expect(other.message).toContain('room stage');
    const viewerOnly = await errorOf(await post('stage', offer, { authorization: `Bearer ${await server.token('stage', ['join'])}` }));
    expect(viewerOnly).toMatchObject({ status: 403, code: 'forbidden' });
    expect(viewerOnly.message).toContain('publish');
    // An unknown resource asks for credentials only after it is known to exist.
    expect(await errorOf(await fetch(`${server.hub.url}/v1/resources/nosuchsession`, { method: 'DELETE' }))).toMatchObject({ status: 404 });
    await stillFlowing();
  });

  it('bodies: not SDP 400, SDP the media server refuses 400, no forwardable codec 406, wrong type 415, too large 413, bad room 400', async () => {
    await withBystander();
    const auth = { authorization: `Bearer ${await server.token('stage')}` };
    const notSdp = await errorOf(await post('stage', '{"sdp":"v=0"}', auth));
    expect(notSdp).toMatchObject({ status: 400, code: 'bad-sdp' });
    const broken = await errorOf(await post('stage', 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=video\r\n', auth));
    expect(broken.status).toBe(400);
    expect(broken.message.length).toBeGreaterThan(10);
    const publisher = await publishingPeer();
    cleanups.push(() => publisher.close());
    const noCodec = await errorOf(await post('stage', publisher.offer.replace(/VP8\/90000/g, 'X-NOPE/90000'), auth));
    expect(noCodec).toMatchObject({ status: 406, code: 'unsupported-codec' });
    expect(noCodec.message).toContain('X-NOPE');
    expect(await errorOf(await post('stage', publisher.offer, { ...auth, 'content-type': 'text/plain' }))).toMatchObject({ status: 415 });
    expect(await errorOf(await post('stage', 'v=0\r\n' + 'a=x\r\n'.repeat(20_000), auth))).toMatchObject({ status: 413, code: 'too-large' });
    expect(await errorOf(await post('no%20spaces', publisher.offer, auth))).toMatchObject({ status: 400, code: 'bad-room' });
    const put = await fetch(server.endpoint('stage'), { method: 'PUT', headers: auth });
    expect(put.headers.get('allow')).toBe('OPTIONS, POST');
    expect(await errorOf(put)).toMatchObject({ status: 405 });
    await stillFlowing();
  });

  it('over capacity: 503 with Retry-After, and a slot frees when a session ends', async () => {
    await withBystander();
    const token = await server.token('stage');
    const second = await publish(server, 'stage', token); // the second of maxSessions 2
    const third = await publishingPeer();
    cleanups.push(() => third.close());
    const full = await post('stage', third.offer, { authorization: `Bearer ${token}` });
    expect(full.headers.get('retry-after')).toBe('10');
    expect(await errorOf(full)).toMatchObject({ status: 503, code: 'over-capacity' });
    await fetch(server.hub.url + second.location, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    const now = await post('stage', third.offer, { authorization: `Bearer ${token}` });
    expect(now.status).toBe(201);
    await fetch(server.hub.url + now.headers.get('location')!, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    await stillFlowing();
  });

  it('CORS: a preflight gets the methods and no ICE servers; an authenticated OPTIONS gets them; an origin off the list 403', async () => {
    const pre = await fetch(server.endpoint('stage'), {
      method: 'OPTIONS',
      headers: { origin: 'https://studio.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://studio.example');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(pre.headers.get('access-control-expose-headers')).toMatch(/Location.*ETag.*Link/);
    expect(pre.headers.get('link')).toBeNull();
    const authed = await fetch(server.endpoint('stage'), { method: 'OPTIONS', headers: { authorization: `Bearer ${await server.token('stage')}` } });
    expect(authed.status).toBe(204);
    expect(authed.headers.get('link')).toContain('rel="ice-server"');
    expect(authed.headers.get('accept-post')).toBe('application/sdp');

    const strict = await startWhipServer({}, { allowedOrigins: ['https://ok.example'] });
    cleanups.push(() => strict.close());
    const refused = await fetch(strict.endpoint('stage'), { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(await errorOf(refused)).toMatchObject({ status: 403, code: 'origin-not-allowed' });
  });
});
