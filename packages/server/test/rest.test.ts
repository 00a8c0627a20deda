import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { SignalDelivery } from '@pinhole/protocol';
import { SERVER_PEER, mintToken, type RunningHub } from '../src/index.js';
import type { TestClient } from './support/client.js';
import { joined, testCores } from './support/hub.js';

const SECRET = 'rest-secret-0123456789';

const cores = testCores();

describe.each(cores)('$name core', (core) => {
  let hub: RunningHub;
  const clients: TestClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await hub.close();
  });

  async function room(): Promise<[TestClient, TestClient]> {
    const token = await mintToken(SECRET, { identity: 'u' }, 60);
    const a = await joined(hub, 'desk', { token }, { name: 'A' });
    const b = await joined(hub, 'desk', { token, transport: 'sse' }, { name: 'B' });
    clients.push(a, b);
    return [a, b];
  }

  const post = (path: string, body: unknown, bearer?: string) =>
    fetch(`${hub.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });

  describe('REST API', () => {
    it('POST /v1/rooms/{room}/messages reaches one WebSocket peer, or the whole room', async () => {
      hub = await core.start({ secret: SECRET });
      const [a, b] = await room();
      const res = await post('/v1/rooms/desk/messages', { to: a.peer, data: { sdp: 'from-lambda' } }, SECRET);
      expect(await res.json()).toEqual({ delivered: 1 });
      expect(await a.next<SignalDelivery>((f) => f.type === 'signal')).toMatchObject({ from: SERVER_PEER, room: 'desk', data: { sdp: 'from-lambda' } });
      expect(await (await post('/v1/rooms/desk/messages', { data: 'all' }, SECRET)).json()).toEqual({ delivered: 2 });
      await a.next((f) => f.type === 'broadcast' && f.data === 'all' && f.from === SERVER_PEER);
      await b.next((f) => f.type === 'broadcast' && f.data === 'all' && f.from === SERVER_PEER);
    });

    it('GET /v1/rooms/{room}/peers lists peers with their meta', async () => {
      hub = await core.start({ secret: SECRET });
      const [a, b] = await room();
      const res = await fetch(`${hub.url}/v1/rooms/desk/peers`, { headers: { authorization: `Bearer ${SECRET}` } });
      const body = (await res.json()) as { peers: { peer: string; meta: unknown }[] };
      expect(body.peers.map((p) => p.peer).sort()).toEqual([a.peer, b.peer].sort());
      expect(body.peers.find((p) => p.peer === a.peer)!.meta).toEqual({ name: 'A' });
    });

    it('accepts an API key or an admin token; refuses others', async () => {
      hub = await core.start({ secret: SECRET, apiKeys: ['key-1'] });
      const [a] = await room();
      expect((await post('/v1/rooms/desk/messages', { to: a.peer, data: 1 }, 'key-1')).status).toBe(200);
      const admin = await mintToken(SECRET, { identity: 'ops', perms: ['admin'] }, 60);
      expect((await post('/v1/rooms/desk/messages', { to: a.peer, data: 2 }, admin)).status).toBe(200);
      const user = await mintToken(SECRET, { identity: 'u' }, 60);
      const forbidden = await post('/v1/rooms/desk/messages', { data: 3 }, user);
      expect(forbidden.status).toBe(403);
      expect(await forbidden.json()).toMatchObject({ code: 'forbidden' });
      for (const bearer of [undefined, 'wrong-key']) {
        const res = await post('/v1/rooms/desk/messages', { data: 4 }, bearer);
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ code: 'unauthorized' });
      }
      expect((await fetch(`${hub.url}/v1/rooms/desk/peers`)).status).toBe(401);
    });

    it.each([
      { name: 'malformed JSON', body: '{x', status: 400, code: 'bad-json' },
      { name: 'no data', body: '{"to":"x"}', status: 400, code: 'bad-frame' },
      { name: 'array body', body: '[1]', status: 400, code: 'bad-frame' },
      { name: 'unknown peer', body: '{"to":"ghost","data":1}', status: 404, code: 'unknown-peer' },
    ])('bad input: $name → $status $code', async ({ body, status, code }) => {
      hub = await core.start({ secret: SECRET });
      await room();
      const res = await fetch(`${hub.url}/v1/rooms/desk/messages`, { method: 'POST', body, headers: { authorization: `Bearer ${SECRET}` } });
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({ type: 'error', code });
    });

    // fetch() resolves dot segments (also %2e) before sending: node:http sends the path as given.
    it.each(['%2e%2e', '%2E%2e', '.%2e', '%2e', '..', '.', '%2e%2e%2e'])('room %s in a REST path → 400 bad-frame, not another route', async (room) => {
      hub = await core.start({ secret: SECRET });
      for (const [method, route] of [['GET', 'peers'], ['POST', 'messages']] as const) {
        const { status, body } = await rawRequest(method, `/v1/rooms/${room}/${route}`, method === 'POST' ? '{"data":1}' : undefined);
        expect({ route, status }).toEqual({ route, status: 400 });
        expect(JSON.parse(body)).toMatchObject({ type: 'error', code: 'bad-frame' });
      }
    });

    it('a message refused (unknown peer) does not consume its id', async () => {
      hub = await core.start({ secret: SECRET });
      const [a] = await room();
      expect((await post('/v1/rooms/desk/messages', { to: 'ghost', id: 'm-9', data: 1 }, SECRET)).status).toBe(404);
      expect(await (await post('/v1/rooms/desk/messages', { to: a.peer, id: 'm-9', data: 'second try' }, SECRET)).json()).toEqual({ delivered: 1 });
      await a.next((f) => f.type === 'signal' && f.data === 'second try');
    });

    it('a retried message with the same id is delivered once', async () => {
      hub = await core.start({ secret: SECRET });
      const [a] = await room();
      for (let i = 0; i < 3; i++) await post('/v1/rooms/desk/messages', { to: a.peer, id: 'msg-1', data: 'once' }, SECRET);
      await post('/v1/rooms/desk/messages', { to: a.peer, data: 'marker' }, SECRET);
      await a.next((f) => f.type === 'signal' && f.data === 'marker');
      expect(a.received.filter((f) => f.type === 'signal' && f.data === 'once')).toHaveLength(1);
    });
  });

  /** A request whose path goes out exactly as given. */
  function rawRequest(method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
    const { hostname, port } = new URL(hub.url);
    return new Promise((resolve, reject) => {
      const req = request({ host: hostname, port, method, path, headers: { authorization: `Bearer ${SECRET}` } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  describe('ops endpoints', () => {
    it('/healthz and /metrics', async () => {
      // A 2 s grace sweeps every 500 ms (server.ts): the Redis core's cluster counts come sooner.
      hub = await core.start({ secret: SECRET, graceMs: 2000 });
      const [a, b] = await room();
      a.send({ type: 'signal', to: b.peer, data: 1 });
      a.send({ type: 'signal', to: 'ghost', data: 1 });
      await b.next((f) => f.type === 'signal');
      await a.next((f) => f.type === 'error');
      b.drop();
      await b.resume('poll');
      const health = async () => (await (await fetch(`${hub.url}/healthz`)).json()) as { status: string; cluster?: { sessions: number } };
      if (core.capabilities.localStats) {
        expect(await health()).toMatchObject({ status: 'ok', sessions: 2 });
      } else {
        // Redis core: `sessions` counts this node's connections; the cluster's sessions are
        // counted by the periodic sweep (docs/deployment.md), so wait for one.
        const deadline = Date.now() + 5000;
        while ((await health()).cluster?.sessions !== 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(await health()).toMatchObject({ status: 'ok', redis: 'ready', cluster: { sessions: 2, nodes: 1 } });
      }
      const text = await (await fetch(`${hub.url}/metrics`)).text();
      // A cluster node adds a `node` label to every series.
      const series = (name: string, labels: string, value: string) => new RegExp(`^${name}\\{?${labels}(,?node="[^"]*")?\\}? ${value}$`, 'm');
      expect(text).toMatch(series('pinhole_connections', 'transport="ws"', '1'));
      expect(text).toMatch(series('pinhole_frames_in_total', 'type="signal"', '2'));
      expect(text).toMatch(series('pinhole_errors_total', 'code="unknown-peer"', '1'));
      expect(text).toMatch(series('pinhole_resumes_total', '', '1'));
      expect(text).toMatch(series('pinhole_frames_out_total', '', '\\d+'));
      expect(text).toMatch(/process_resident_memory_bytes/);
      if (core.capabilities.localStats) {
        expect(text).toMatch(series('pinhole_rooms', '', '1'));
        expect(text).toMatch(series('pinhole_peers', '', '2'));
        expect(text).toMatch(series('pinhole_replay_buffer_frames', '', '\\d+'));
      } else {
        // Only Redis knows rooms and replay buffers: the node exports the cluster's counts instead.
        expect(text).not.toMatch(/^pinhole_(rooms|peers|replay_buffer_frames)[{ ]/m);
        expect(text).toMatch(series('pinhole_cluster_sessions', '', '2'));
        expect(text).toMatch(series('pinhole_cluster_nodes', '', '1'));
      }
    });
  });
});
