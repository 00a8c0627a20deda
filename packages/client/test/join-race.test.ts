/**
 * No signal from a member is lost around a join (issue 13, item 8). A member already in
 * the room (impolite, so it makes the one offer node-datachannel allows) offers as soon as
 * it sees us join. When our event loop is busy at that moment, the offer reaches us before
 * the join's result is handled: in the same TCP read as the hub's `joined`, or while a
 * broker join (Redis, MQTT) is still under way, or, after a chain moved to the next
 * rung, before the room's `rejoined`. Dropped, both sides would wait for the 30 s connect
 * timeout; kept, the channel opens in seconds.
 *
 * The member runs in its own process (support/offering-member.mjs), so blocking this
 * process's event loop blocks only the joining side, as a busy application would.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import type { Json } from '@pinhole/protocol';
import { connectRedis, nodePlatform } from '@pinhole/node';
import { MqttSignaler, type MqttConnect } from '../src/signaling/mqtt.js';
import { HubSignaler } from '../src/signaling/hub-signaler.js';
import { SignalerChain } from '../src/signaling/chain.js';
import type { Signaler } from '../src/signaling/signaler.js';
import type { Room } from '../src/room.js';
import { TestRedis } from '@pinhole/test-kit/redis';
import { Mosquitto } from '@pinhole/test-kit/mosquitto';
import { startTestHub } from '@pinhole/test-kit/hub';
import { nodeRoom } from './support/rendezvous.js';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** Well under the 30 s connect timeout that a lost offer costs. */
const OPEN_WITHIN_MS = 10_000;

interface Member {
  hub: string | undefined;
  peer: string;
  /** Exists once the member has sent its offer. */
  marker: string;
}

async function startMember(config: { carrier: 'hub' } | { carrier: 'redis' | 'mqtt'; url: string; peerId: string }, room: string): Promise<Member> {
  const dir = mkdtempSync(join(tmpdir(), 'pinhole-join-race-'));
  const marker = join(dir, 'offered');
  const script = fileURLToPath(new URL('./support/offering-member.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, JSON.stringify({ ...config, room, marker })], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  cleanup.push(async () => {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exited.then(() => reject(new Error('the member process exited before joining')));
  });
  const { hub, peer } = JSON.parse(line) as { hub?: string; peer: string };
  return { hub, peer, marker };
}

/**
 * Blocks this process's event loop, as a busy joining side's would be, until the member has
 * sent its offer, then `thenMs` longer so that it reaches us behind what the join is waiting for.
 */
function blockUntilOffered(member: Member, thenMs = 500): void {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 20_000;
  while (!existsSync(member.marker) && Date.now() < deadline) Atomics.wait(nap, 0, 0, 10);
  Atomics.wait(nap, 0, 0, thenMs);
}

const isOffer = (data: Json): boolean => (data as { description?: { type?: string } } | null)?.description?.type === 'offer';

/**
 * Wraps `signaler.join`: `afterSend` runs in the task after the join went out. The result
 * says whether an offer came before the join's result: the race under test took place.
 */
function watchJoin(signaler: Signaler, afterSend?: () => void): () => boolean {
  let joined = false;
  let offerFirst = false;
  signaler.on('signal', ({ data }) => (offerFirst ||= !joined && isOffer(data)));
  const join = signaler.join.bind(signaler);
  signaler.join = (room, meta) => {
    const result = join(room, meta);
    if (afterSend) setImmediate(afterSend);
    return result.then((peers) => ((joined = true), peers));
  };
  return () => offerFirst;
}

/** A hub signaler whose peer id sorts before `peer`: the polite side, which waits for the member's offer. */
async function hubSignalerBefore(url: string, peer: string): Promise<HubSignaler> {
  for (let i = 0; i < 50; i++) {
    const s = await new HubSignaler(url, { platform: nodePlatform(), reconnect: false }).open();
    if (s.localId < peer) return s;
    await s.close();
  }
  throw new Error(`no peer id below ${peer} in 50 sessions`);
}

/** Resolves with how long the member's peer took to open a channel, from `since`. */
async function openMs(room: Room, member: Member, since: number): Promise<number> {
  const peer = room.peers.get(member.peer);
  expect(peer, 'the member is in the room').toBeDefined();
  await peer!.channel('race').next('open', 45_000); // past the connect timeout, so a failure shows the time taken
  return Date.now() - since;
}

describe('a member offering while we join', () => {
  it('hub: an offer read in the same task as `joined` (event loop blocked) is kept; the channel opens in seconds', async () => {
    const member = await startMember({ carrier: 'hub' }, 'race');
    const joiner = await hubSignalerBefore(member.hub!, member.peer);
    cleanup.push(() => joiner.close());
    const offerFirst = watchJoin(joiner, () => blockUntilOffered(member));
    const started = Date.now();
    const room = await nodeRoom(joiner, 'race');
    cleanup.push(() => room.leave());
    expect(offerFirst()).toBe(true);
    expect(await openMs(room, member, started)).toBeLessThan(OPEN_WITHIN_MS);
  }, 60_000);

  it('chain: an offer on the next rung that comes before the rooms are rebuilt there is kept', async () => {
    const member = await startMember({ carrier: 'hub' }, 'race');
    const empty = await startTestHub();
    cleanup.push(() => empty.close());
    let offerFirst = (): boolean => false;
    const chain = await new SignalerChain([
      // Nobody signals here: after 1 s the chain moves to the member's hub.
      { name: 'empty', open: () => new HubSignaler(empty.url, { platform: nodePlatform(), reconnect: false }).open(), signalingTimeoutMs: 1000 },
      {
        name: 'member',
        open: async () => {
          const s = await hubSignalerBefore(member.hub!, member.peer);
          offerFirst = watchJoin(s, () => blockUntilOffered(member));
          return s;
        },
      },
    ]).open();
    cleanup.push(() => chain.close());
    const room = await nodeRoom(chain, 'race');
    cleanup.push(() => room.leave());
    const { peers } = await room.next('rejoined', 20_000);
    const started = Date.now();
    expect(peers.map((p) => p.id)).toEqual([member.peer]);
    expect(offerFirst()).toBe(true);
    expect(await openMs(room, member, started)).toBeLessThan(OPEN_WITHIN_MS);
  }, 60_000);

  it.each(['redis', 'mqtt'] as const)('%s: an offer that comes while the join is still under way is kept', async (carrier) => {
    const broker = carrier === 'redis' ? await TestRedis.start() : await Mosquitto.start();
    cleanup.push(() => broker.stop());
    // Ids chosen so the member is the impolite side, the one that offers.
    const member = await startMember({ carrier, url: broker.url, peerId: 'member-z' }, 'race');
    let blocked = false;
    const block = (): void => {
      if (blocked) return;
      blocked = true;
      blockUntilOffered(member);
    };
    // Blocked once our presence is out: the member hears it and offers while our join goes on.
    const joiner = carrier === 'redis' ? await redisBlockingOnPresence(broker.url, block) : await mqttBlockingOnSync(broker.url, block);
    cleanup.push(() => joiner.close());
    const offerFirst = watchJoin(joiner);
    const started = Date.now();
    const room = await nodeRoom(joiner, 'race');
    cleanup.push(() => room.leave());
    expect(blocked).toBe(true);
    expect(offerFirst()).toBe(true);
    expect(await openMs(room, member, started)).toBeLessThan(OPEN_WITHIN_MS);
  }, 60_000);
});

/**
 * The joining side over Redis; `block` runs when a raw subscriber sees its presence (Redis
 * sends it to subscribers before answering the PUBLISH, and the join has two more round
 * trips to go: reading the members' keys).
 */
async function redisBlockingOnPresence(url: string, block: () => void): Promise<Signaler> {
  const watcher = new Redis(url);
  cleanup.push(() => watcher.quit());
  watcher.on('pmessage', (_pattern: string, _channel: string, message: string) => message.includes('joiner-a') && block());
  await watcher.psubscribe('*presence*');
  return connectRedis(url, { peerId: 'joiner-a' });
}

/**
 * The joining side over MQTT; `block` runs in the task after it published its presence and
 * the marker whose return ends its join, so that marker and the member's offer are read together.
 */
function mqttBlockingOnSync(url: string, block: () => void): Promise<Signaler> {
  const connect: MqttConnect = (u, options) => {
    const client = mqttConnect(u, options);
    const publish = client.publish.bind(client) as (...args: unknown[]) => MqttClient;
    client.publish = ((...args: unknown[]) => {
      if (String(args[1]).includes('"sync"')) setImmediate(block);
      return publish(...args);
    }) as MqttClient['publish'];
    return client;
  };
  return new MqttSignaler({ url, connect, peerId: 'joiner-a' }).open();
}
