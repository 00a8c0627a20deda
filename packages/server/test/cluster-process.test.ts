/**
 * Three real `pinhole serve --redis` processes on one real redis-server, with SDK clients:
 * through a round-robin proxy (each request to the next node: no stickiness), through a
 * SIGKILL of one node under traffic (nothing lost, nothing twice), and through a restart
 * of Redis itself (the nodes recover on their own). The tests run in order and share the
 * nodes: the second kills node C, the third restarts Redis under A and B.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, type Room, type Session } from '@pinhole/node';
import type { Json } from '@pinhole/protocol';
import { TestClient } from './support/client.js';
import { HubProcess } from './support/hub-process.js';
import { TestRedis } from '@pinhole/test-kit/redis';
import { RoundRobinProxy } from './support/round-robin.js';

let redis: TestRedis;
let nodes: HubProcess[] = [];
const sessions: Session[] = [];

beforeAll(async () => {
  redis = await TestRedis.start();
  nodes = await Promise.all(['a', 'b', 'c'].map((n) => HubProcess.start({ redis: redis.url, nodeId: `node-${n}`, args: ['--grace', '3s'] })));
}, 60_000);
afterAll(async () => {
  // A session closes with a leave per room; do not wait long for a hub that cannot answer.
  await Promise.all(sessions.map((s) => Promise.race([s.close().catch(() => undefined), sleep(2000)])));
  await Promise.all(nodes.map((n) => n.stop()));
  await redis.stop();
});

const until = async (what: string, ok: () => boolean, ms = 15_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An SDK client in `room`; records every message and broadcast payload by sender. */
interface Member {
  session: Session;
  room: Room;
  messages: Map<string, Json[]>;
  broadcasts: Map<string, Json[]>;
  left: string[];
}

async function member(urls: string | string[], transport: 'ws' | 'sse' | 'poll', roomName: string): Promise<Member> {
  const session = await connect(urls, { transports: [transport], openTimeoutMs: 3000, reconnect: { initialDelayMs: 50, maxDelayMs: 500 } });
  sessions.push(session);
  const room = await session.join(roomName, { transport }, { connect: false });
  const m: Member = { session, room, messages: new Map(), broadcasts: new Map(), left: [] };
  const add = (map: Map<string, Json[]>, from: unknown, data: Json): void => {
    const id = typeof from === 'string' ? from : (from as { id: string }).id;
    map.set(id, [...(map.get(id) ?? []), data]);
  };
  room.on('message', ({ from, data }) => add(m.messages, from, data));
  room.on('broadcast', ({ from, data }) => add(m.broadcasts, from, data));
  room.on('peer-left', ({ peer }) => m.left.push(peer.id));
  return m;
}

const upTo = (n: number): number[] => [...Array(n).keys()];

it('through a round-robin proxy (every request to the next node), SDK clients on ws, sse and poll exchange everything exactly once, in order', async () => {
  const proxy = await RoundRobinProxy.start(nodes.map((n) => n.url));
  try {
    const members = [await member(proxy.url, 'ws', 'rr'), await member(proxy.url, 'sse', 'rr'), await member(proxy.url, 'poll', 'rr')];
    await until('everyone sees everyone', () => members.every((m) => m.room.peers.size === 2));
    const N = 60;
    for (let i = 0; i < N; i++) {
      for (const m of members) {
        for (const peer of m.room.peers.values()) m.room.send(peer, i);
        m.room.broadcast(i);
      }
      if (i % 10 === 9) await sleep(20);
    }
    for (const m of members) {
      for (const other of members) {
        if (other === m) continue;
        const id = other.session.peerId;
        await until(`${id} → ${m.session.peerId}`, () => (m.messages.get(id)?.length ?? 0) >= N && (m.broadcasts.get(id)?.length ?? 0) >= N);
      }
    }
    await sleep(300); // anything sent twice would arrive by now
    for (const m of members) {
      for (const other of members) {
        if (other === m) continue;
        expect(m.messages.get(other.session.peerId)).toEqual(upTo(N));
        expect(m.broadcasts.get(other.session.peerId)).toEqual(upTo(N));
      }
      expect(m.left).toEqual([]);
    }
    // Every node served requests: the sessions really were spread over all three.
    expect([...proxy.counts.values()].every((count) => count >= 5)).toBe(true);
  } finally {
    await proxy.close();
  }
}, 60_000);

it('SIGKILL of a node under traffic: its clients resume on the next URL; 0 lost, 0 duplicated; its abandoned session is cleaned up after it', async () => {
  const [a, b, c] = nodes as [HubProcess, HubProcess, HubProcess];
  // Each client lists every node, starting with a different one; the first three transports differ.
  const members = [
    await member([a.url, b.url, c.url], 'ws', 'kill'),
    await member([b.url, c.url, a.url], 'sse', 'kill'),
    await member([c.url, a.url, b.url], 'poll', 'kill'),
    await member([c.url, a.url, b.url], 'ws', 'kill'),
  ];
  // A raw client on node C that never comes back: its session must end after C dies.
  const ghost = new TestClient(c.url);
  await ghost.connect();
  ghost.send({ type: 'join', room: 'kill' });
  await ghost.next((f) => f.type === 'joined');
  await until('everyone sees everyone', () => members.every((m) => m.room.peers.size === members.length));

  const M = 400;
  let killed = false;
  for (let i = 0; i < M; i++) {
    for (const m of members) {
      for (const other of members) if (other !== m) m.room.send(other.session.peerId, i);
    }
    if (i === 150) {
      await c.kill();
      killed = true;
    }
    await sleep(3);
  }
  expect(killed).toBe(true);
  for (const m of members) {
    for (const other of members) {
      if (other === m) continue;
      await until(`${other.session.peerId} → ${m.session.peerId}`, () => (m.messages.get(other.session.peerId)?.length ?? 0) >= M, 30_000);
    }
  }
  await sleep(300);
  let frames = 0;
  for (const m of members) {
    for (const other of members) {
      if (other === m) continue;
      const got = m.messages.get(other.session.peerId)!;
      frames += got.length;
      expect(got).toEqual(upTo(M)); // every frame, once, in order
    }
  }
  expect(frames).toBe(M * members.length * (members.length - 1));
  // The clients of C moved to the next URL in their list and kept their sessions.
  expect(members.map((m) => m.session.signaler.connection.base)).toEqual([a.url, b.url, a.url, a.url]);
  expect(members.every((m) => m.session.state === 'connected')).toBe(true);
  // Nobody saw a live member leave; the ghost is gone once another node noticed C's death.
  const ghostLeft = () => members.every((m) => m.left.includes(ghost.peer));
  await until('the dead node’s session ends', ghostLeft, 20_000);
  for (const m of members) expect(m.left).toEqual([ghost.peer]);
  // Node A's view of the cluster (refreshed by its next sweep) drops the dead node.
  let nodesSeen = 0;
  for (let i = 0; i < 100 && nodesSeen !== 2; i++) {
    nodesSeen = ((await (await fetch(`${a.url}/healthz`)).json()) as { cluster: { nodes: number } }).cluster.nodes;
    if (nodesSeen !== 2) await sleep(50);
  }
  expect(nodesSeen).toBe(2);
  await ghost.close();
}, 90_000);

it('a Redis restart: /healthz reports it, the nodes recover without a restart, and clients carry on (with new sessions: this Redis keeps nothing)', async () => {
  const [a, b] = nodes as [HubProcess, HubProcess];
  const one = await member([a.url, b.url], 'ws', 'restart');
  const two = await member([b.url, a.url], 'sse', 'restart');
  await until('both in the room', () => one.room.peers.size === 1 && two.room.peers.size === 1);

  let expired = 0;
  for (const m of [one, two]) m.session.on('expired', () => expired++);
  await redis.stop();
  /** Polls `/healthz` of `node` until it answers `want`; returns its body. */
  const healthIs = async (node: HubProcess, want: number): Promise<{ status: string; error?: string }> => {
    for (let i = 0; ; i++) {
      const res = await fetch(`${node.url}/healthz`);
      const body = (await res.json()) as { status: string; error?: string };
      if (res.status === want) return body;
      if (i > 300) throw new Error(`${node.nodeId} /healthz stays ${res.status}: ${JSON.stringify(body)}`);
      await sleep(50);
    }
  };
  for (const node of [a, b]) {
    const body = await healthIs(node, 503);
    expect(body.status).toBe('degraded');
    expect(body.error).toMatch(/Redis/);
  }
  await redis.restart();
  for (const node of [a, b]) expect((await healthIs(node, 200)).status).toBe('ok');
  // The sessions were in the old Redis: the SDK starts new ones and joins its rooms again.
  await until('both rejoined each other', () => expired === 2 && one.room.peers.has(two.session.peerId) && two.room.peers.has(one.session.peerId), 20_000);
  one.room.send(two.session.peerId, 'after');
  two.room.send(one.session.peerId, 'after');
  await until('messages flow again', () => (two.messages.get(one.session.peerId) ?? []).includes('after') && (one.messages.get(two.session.peerId) ?? []).includes('after'));
}, 60_000);
