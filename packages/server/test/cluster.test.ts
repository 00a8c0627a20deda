/**
 * Hub nodes sharing a real Redis (in-process nodes: a process boundary changes nothing
 * here; cluster-process.test.ts kills real ones). Rooms, presence, signals, broadcasts,
 * resume, grace expiry and the REST API span nodes.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import type { ServerFrame } from '@pinhole/protocol';
import type { HubOptions, RunningHub } from '../src/index.js';
import { TestClient } from './support/client.js';
import { joined, startTestHub } from './support/hub.js';
import { TestRedis } from '@pinhole/test-kit/redis';

let redis: TestRedis;
const hubs: RunningHub[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = await TestRedis.start();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});

let prefix = 0;
/** `n` nodes on one Redis, each test in its own key prefix. */
async function cluster(n: number, options: HubOptions = {}): Promise<RunningHub[]> {
  const redisPrefix = `t${++prefix}:`;
  for (let i = 0; i < n; i++) hubs.push(await startTestHub({ redis: redis.url, redisPrefix, nodeId: `node-${'abc'[i]}`, ratePerSecond: Infinity, pollHoldMs: 1000, ...options }));
  return hubs.slice(-n);
}

const payloads = (frames: ServerFrame[], type: 'signal' | 'broadcast', from: string): number[] =>
  frames.filter((f) => f.type === type && f.from === from).map((f) => (f as unknown as { data: { n: number } }).data.n);

it('ws on A, sse on B, poll on C share a room: signals and broadcasts cross nodes both ways, exactly once, in order', async () => {
  const [a, b, c] = await cluster(3);
  const ws = await joined(a!, 'mixed', { transport: 'ws' }, { name: 'ws' });
  const sse = await joined(b!, 'mixed', { transport: 'sse' }, { name: 'sse' });
  const poll = await joined(c!, 'mixed', { transport: 'poll' }, { name: 'poll' });
  clients.push(ws, sse, poll);
  const all = [ws, sse, poll];
  // Presence spans nodes: each saw the later ones join, with their meta.
  await ws.next((f) => f.type === 'peer-joined' && f.peer === poll.peer);
  expect(ws.received.filter((f) => f.type === 'peer-joined').map((f) => (f as unknown as { meta: { name: string } }).meta.name)).toEqual(['sse', 'poll']);
  const pollJoined = poll.received.find((f) => f.type === 'joined') as { peers: { peer: string }[] };
  expect(pollJoined.peers.map((p) => p.peer).sort()).toEqual([ws.peer, sse.peer].sort());

  const N = 150;
  for (let i = 0; i < N; i++) {
    for (const from of all) {
      for (const to of all) if (to !== from) from.send({ type: 'signal', to: to.peer, room: 'mixed', data: { n: i } });
      from.send({ type: 'broadcast', room: 'mixed', data: { n: i } });
    }
  }
  const expected = [...Array(N).keys()];
  for (const to of all) {
    for (const from of all) {
      if (from === to) continue;
      await to.until(() => payloads(to.received, 'signal', from.peer).length >= N && payloads(to.received, 'broadcast', from.peer).length >= N, 20_000);
    }
  }
  // Let any duplicate arrive before counting.
  await new Promise((r) => setTimeout(r, 200));
  for (const to of all) {
    for (const from of all) {
      if (from === to) continue;
      expect(payloads(to.received, 'signal', from.peer)).toEqual(expected);
      expect(payloads(to.received, 'broadcast', from.peer)).toEqual(expected);
    }
    expect(to.gaps).toEqual([]);
    expect(to.received.filter((f) => f.type === 'error')).toEqual([]);
  }
});

it('a session resumes on another node and on another transport: rooms, peer id and unacked frames follow it', async () => {
  const [a, b] = await cluster(2);
  const steady = await joined(a!, 'move');
  const mover = await joined(a!, 'move', { transport: 'ws' });
  clients.push(steady, mover);
  await steady.next((f) => f.type === 'peer-joined');
  mover.drop();
  for (let i = 0; i < 20; i++) steady.send({ type: 'signal', to: mover.peer, data: { n: i } });
  const moved = mover;
  const welcome = await moved.resume('sse', b!.url);
  expect(welcome).toMatchObject({ resumed: true, peer: mover.peer, rooms: ['move'] });
  await moved.until(() => payloads(moved.received, 'signal', steady.peer).length >= 20);
  expect(payloads(moved.received, 'signal', steady.peer)).toEqual([...Array(20).keys()]);
  moved.send({ type: 'signal', to: steady.peer, data: { n: 0 } });
  await steady.next((f) => f.type === 'signal' && f.from === mover.peer);
  expect(steady.received.filter((f) => f.type === 'peer-left')).toEqual([]);
});

it('a second connection on another node replaces the first (replaced), and bye ends the session for every node', async () => {
  const [a, b] = await cluster(2);
  const watcher = await joined(b!, 'r');
  const first = await joined(a!, 'r');
  clients.push(watcher, first);
  // A raw second WebSocket on node B resumes first's session.
  const second = new WebSocket(`${b!.url.replace('http', 'ws')}/v1/ws`);
  const w = first.welcome!;
  await new Promise((r) => second.once('open', r));
  second.send(JSON.stringify({ type: 'hello', resume: { session: w.session, key: w.key, lastSeq: first.lastSeq } }));
  await first.next((f) => f.type === 'error' && f.code === 'replaced');
  second.send(JSON.stringify({ type: 'bye', id: 2 }));
  const left = await watcher.next((f) => f.type === 'peer-left');
  expect(left).toMatchObject({ peer: first.peer, reason: 'leave' });
  await new Promise((r) => second.once('close', r));
  await expect(first.resume('ws', a!.url)).rejects.toMatchObject({ code: 'session-unknown' });
});

it('a dropped session stays present until its grace period ends, then room-mates on other nodes see peer-left timeout', async () => {
  const [a, b] = await cluster(2, { graceMs: 600 });
  const stays = await joined(a!, 'g');
  const goes = await joined(b!, 'g', { transport: 'poll' });
  clients.push(stays, goes);
  await stays.next((f) => f.type === 'peer-joined');
  const dropped = Date.now();
  goes.drop();
  const left = await stays.next((f) => f.type === 'peer-left', 5000);
  expect(left).toMatchObject({ peer: goes.peer, reason: 'timeout' });
  expect(Date.now() - dropped).toBeGreaterThanOrEqual(600);
});

it('a poll that carries frames (POST /v1/poll) on node B: its join is answered in it, its signal reaches a peer on node A, lastId in the header', async () => {
  const [a, b] = await cluster(2);
  const peer = await joined(a!, 'carry');
  clients.push(peer);
  const hello = (await (await fetch(`${b!.url}/v1/send`, { method: 'POST', body: '{"type":"hello"}' })).json()) as { session: string; key: string };
  const q = `session=${hello.session}&key=${hello.key}`;
  const poll = (ack: number, body: unknown) => fetch(`${b!.url}/v1/poll?${q}&ack=${ack}`, { method: 'POST', body: JSON.stringify(body) });
  const first = await poll(0, { type: 'join', id: 1, room: 'carry' });
  expect(first.headers.get('pinhole-last-id')).toBe('1');
  const got = (await first.json()) as ServerFrame[];
  expect(got[0]).toMatchObject({ type: 'joined', seq: 1, ref: 1, peers: [{ peer: peer.peer }] });
  const second = await poll(1, [{ type: 'signal', id: 2, to: peer.peer, data: { n: 1 } }, { type: 'ping', id: 3 }]);
  expect(second.headers.get('pinhole-last-id')).toBe('3');
  expect(((await second.json()) as ServerFrame[]).map((f) => f.type)).toEqual(['pong']);
  const signal = await peer.next((f) => f.type === 'signal');
  expect(signal).toMatchObject({ data: { n: 1 } });
});

it('REST on node B reaches a peer on node A; a retried message id is not delivered twice', async () => {
  const [a, b] = await cluster(2);
  const peer = await joined(a!, 'api');
  clients.push(peer);
  const peers = (await (await fetch(`${b!.url}/v1/rooms/api/peers`)).json()) as { peers: { peer: string }[] };
  expect(peers.peers.map((p) => p.peer)).toEqual([peer.peer]);
  const post = () => fetch(`${b!.url}/v1/rooms/api/messages`, { method: 'POST', body: JSON.stringify({ to: peer.peer, data: { hi: 1 }, id: 'm1' }) }).then((r) => r.json());
  expect(await post()).toEqual({ delivered: 1 });
  expect(await post()).toEqual({ delivered: 0, duplicate: true });
  await peer.next((f) => f.type === 'signal' && f.from === '@server');
  const unknown = await fetch(`${b!.url}/v1/rooms/api/messages`, { method: 'POST', body: JSON.stringify({ to: 'ghost', data: 1 }) });
  expect(unknown.status).toBe(404);
});

it('errors, limits and ids behave as on one node: room-full, not-in-room, a rate limit and frame ids shared by the nodes', async () => {
  const [a, b] = await cluster(2, { maxPeersPerRoom: 1, ratePerSecond: 1, rateBurst: 3 });
  const one = await joined(a!, 'full');
  const two = new TestClient(b!.url);
  clients.push(one, two);
  await two.connect();
  two.send({ type: 'join', room: 'full' });
  expect(await two.next((f) => f.type === 'error')).toMatchObject({ code: 'room-full', ref: 1, frame: 'join' });
  two.send({ type: 'broadcast', room: 'nowhere', data: 1 });
  expect(await two.next((f) => f.type === 'error' && f.ref === 2)).toMatchObject({ code: 'not-in-room' });
  // The bucket (burst 3) holds join, broadcast and this ping (answered with a pong, over node B)…
  two.send({ type: 'ping' });
  expect(await two.next((f) => f.type === 'pong')).toMatchObject({ ref: 3, lastId: 3 });
  // …and the same session, resumed on node A, finds it empty: the bucket lives in Redis.
  await two.resume('sse', a!.url);
  two.send({ type: 'ping' });
  expect(await two.next((f) => f.type === 'error' && f.ref === 4)).toMatchObject({ code: 'rate-limited' });
  // A frame retried on another node is applied once: dedupe by id lives in Redis too.
  const w = one.welcome!;
  const q = `session=${w.session}&key=${w.key}`;
  const frame = JSON.stringify({ type: 'signal', id: 2, to: one.peer, data: { retry: 1 } });
  for (const hub of [b!, a!]) {
    const reply = await (await fetch(`${hub.url}/v1/send?${q}`, { method: 'POST', body: frame })).json();
    expect(reply).toMatchObject({ ok: true, lastId: 2 });
  }
  await one.next((f) => f.type === 'signal');
  await new Promise((r) => setTimeout(r, 100));
  expect(one.received.filter((f) => f.type === 'signal')).toHaveLength(1);
});

it('health and metrics per node: node id, Redis state, cluster counts, a node label on every series', async () => {
  const [a, b] = await cluster(2);
  const one = await joined(a!, 'm');
  const two = await joined(b!, 'm', { transport: 'sse' });
  clients.push(one, two);
  one.send({ type: 'signal', to: two.peer, data: 1 });
  await two.next((f) => f.type === 'signal');
  // The cluster figures come from each node's sweep (every grace/4, at most 1 s).
  let health: { cluster?: { nodes: number } } = {};
  for (let i = 0; i < 100 && health.cluster?.nodes !== 2; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 50));
    health = (await (await fetch(`${a!.url}/healthz`)).json()) as typeof health;
  }
  expect(health).toMatchObject({ status: 'ok', node: 'node-a', redis: 'ready', sessions: 1, cluster: { sessions: 2, nodes: 2 } });
  const text = await (await fetch(`${b!.url}/metrics`)).text();
  expect(text).toContain('pinhole_sessions{node="node-b"} 1');
  expect(text).toContain('pinhole_redis_up{node="node-b"} 1');
  expect(text).toMatch(/pinhole_frames_out_total\{node="node-b"\} [1-9]/);
  expect(text).toMatch(/pinhole_connections\{transport="sse",node="node-b"\} 1/);
  expect(text).not.toContain('pinhole_rooms');
});

it('a node declared dead while it stalled closes its connections on its next sweep; the client resumes and misses nothing', async () => {
  const [a, b] = await cluster(2);
  const keys = `t${prefix}:`;
  const stalled = await joined(a!, 'stall');
  const other = await joined(b!, 'stall');
  clients.push(stalled, other);
  await stalled.next((f) => f.type === 'peer-joined');
  // What another node's sweep does once node A's heartbeat lapsed:
  const r = new Redis(redis.url);
  try {
    await r.zrem(`${keys}nodes`, 'node-a');
    await r.hset(`${keys}s:${stalled.welcome!.session}`, 'node', '', 'conn', '');
  } finally {
    r.disconnect();
  }
  other.send({ type: 'signal', to: stalled.peer, data: 'while stalled' });
  const wsOnA = async () => Number(/pinhole_connections\{transport="ws",node="node-a"\} (\d+)/.exec(await (await fetch(`${a!.url}/metrics`)).text())![1]);
  for (let i = 0; i < 100 && (await wsOnA()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
  expect(await wsOnA()).toBe(0);
  await stalled.resume('ws');
  expect(await stalled.next((f) => f.type === 'signal')).toMatchObject({ from: other.peer, data: 'while stalled' });
});
