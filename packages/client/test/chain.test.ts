/**
 * The fallback chain with real carriers: "hub unreachable" — [hub at a dead address, MQTT]
 * — and the peers still connect, over MQTT, and say so in their reports; with a healthy hub
 * the chain stays on the hub. Also: a rung on which no peer signals in time is left for the
 * next one, and the rooms are rebuilt there.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectMqtt, connectRedis, nodePlatform } from '@pinhole/node';
import { HubSignaler } from '../src/signaling/hub-signaler.js';
import { SignalerChain, type ChainRung } from '../src/signaling/chain.js';
import type { Room } from '../src/room.js';
import { Mosquitto } from '@pinhole/test-kit/mosquitto';
import { TestRedis } from '@pinhole/test-kit/redis';
import { freeTcpPort } from '@pinhole/test-kit/ports';
import { startTestHub } from '@pinhole/test-kit/hub';
import { echoOverDataChannel, meet, nodeRoom } from './support/rendezvous.js';

let broker: Mosquitto;
let redis: TestRedis;
beforeAll(async () => {
  [broker, redis] = await Promise.all([Mosquitto.start(), TestRedis.start()]);
});
afterAll(() => Promise.all([broker?.stop(), redis?.stop()]));

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const hubRung = (url: string, signalingTimeoutMs?: number): ChainRung => ({
  name: 'hub',
  open: () => new HubSignaler(url, { platform: nodePlatform(), reconnect: false, openTimeoutMs: 2000 }).open(),
  connectTimeoutMs: 3000,
  ...(signalingTimeoutMs === undefined ? {} : { signalingTimeoutMs }),
});
const mqttRung = (): ChainRung => ({ name: 'mqtt', open: () => connectMqtt(broker.url), connectTimeoutMs: 3000 });

async function chain(rungs: ChainRung[]): Promise<{ chain: SignalerChain; rungs: string[] }> {
  const c = new SignalerChain(rungs);
  const seen: string[] = [];
  c.on('rung', ({ name, reason }) => seen.push(reason === undefined ? name : `${name} (${reason.split(':')[0]})`));
  cleanup.push(() => c.close());
  await c.open();
  return { chain: c, rungs: seen };
}

async function joinBoth(a: SignalerChain, b: SignalerChain, name: string): Promise<[Room, Room]> {
  const ra = await nodeRoom(a, name);
  const rb = await nodeRoom(b, name);
  cleanup.push(() => ra.leave(), () => rb.leave());
  return [ra, rb];
}

describe('SignalerChain', () => {
  it('hub unreachable: [dead hub, MQTT] → the peers connect over MQTT and the report says mqtt', async () => {
    const dead = `http://127.0.0.1:${await freeTcpPort()}`;
    const a = await chain([hubRung(dead), mqttRung()]);
    const b = await chain([hubRung(dead), mqttRung()]);
    expect(a.rungs).toEqual([expect.stringMatching(/^mqtt \(/)]); // straight to MQTT, with the hub's failure as the reason
    expect(a.chain.kind).toBe('mqtt');
    const [ra, rb] = await joinBoth(a.chain, b.chain, 'fallback');
    const { pa, pb } = await meet(ra, rb);
    expect(await echoOverDataChannel(pa, pb)).toEqual({ echo: { hello: 'echo' } });
    const report = await pa.report();
    expect(report).toMatchObject({ state: 'connected', signaler: 'mqtt', transport: 'mqtt/mqtt' });
    expect(a.chain.settled).toBe(true);
  });

  it('hub and MQTT unreachable: [dead hub, dead MQTT, Redis] → the peers connect over Redis and the report says redis', async () => {
    const dead = `http://127.0.0.1:${await freeTcpPort()}`;
    const deadMqtt: ChainRung = { name: 'mqtt', open: () => connectMqtt(`mqtt://127.0.0.1:${dead.split(':')[2]}`, { connectTimeoutMs: 1000 }), connectTimeoutMs: 3000 };
    const redisRung: ChainRung = { name: 'redis', open: () => connectRedis(redis.url), connectTimeoutMs: 3000 };
    const [a, b] = await Promise.all([chain([hubRung(dead), deadMqtt, redisRung]), chain([hubRung(dead), deadMqtt, redisRung])]);
    expect(a.rungs).toEqual([expect.stringMatching(/^redis \(/)]);
    const [ra, rb] = await joinBoth(a.chain, b.chain, 'fallback to redis');
    const { pa, pb } = await meet(ra, rb);
    expect(await echoOverDataChannel(pa, pb)).toEqual({ echo: { hello: 'echo' } });
    expect(await pa.report()).toMatchObject({ state: 'connected', signaler: 'redis', transport: 'redis/redis' });
  });

  it('healthy hub: the chain stays on the hub and the report says hub', async () => {
    const hub = await startTestHub();
    cleanup.push(() => hub.close());
    const a = await chain([hubRung(hub.url, 10_000), mqttRung()]);
    const b = await chain([hubRung(hub.url, 10_000), mqttRung()]);
    expect([a.rungs, b.rungs]).toEqual([['hub'], ['hub']]);
    const [ra, rb] = await joinBoth(a.chain, b.chain, 'healthy');
    const { pa, pb } = await meet(ra, rb);
    expect(await echoOverDataChannel(pa, pb)).toEqual({ echo: { hello: 'echo' } });
    expect(await pa.report()).toMatchObject({ state: 'connected', signaler: 'hub', transport: 'hub/ws' });
    expect(a.chain.settled && b.chain.settled).toBe(true);
  });

  it('a rung where nobody signals in time is left: the rooms move to the next rung and the peers meet there', async () => {
    // a reaches the hub, b does not: a hears nothing on the hub and moves to MQTT after 1.5 s.
    const hub = await startTestHub();
    cleanup.push(() => hub.close());
    const dead = `http://127.0.0.1:${await freeTcpPort()}`;
    const a = await chain([hubRung(hub.url, 1500), mqttRung()]);
    const b = await chain([hubRung(dead, 1500), mqttRung()]);
    const [ra, rb] = await joinBoth(a.chain, b.chain, 'asymmetric');
    expect(a.chain.kind).toBe('hub');
    await ra.next('rejoined', 10_000);
    expect(a.rungs).toEqual(['hub', 'mqtt (no signaling within 1500 ms)']);
    const { pa, pb } = await meet(ra, rb);
    expect(await echoOverDataChannel(pa, pb)).toEqual({ echo: { hello: 'echo' } });
    expect((await pb.report()).signaler).toBe('mqtt');
  });

  it('no rung works: open() rejects with connect-failed naming every rung', async () => {
    const dead = `http://127.0.0.1:${await freeTcpPort()}`;
    const c = new SignalerChain([hubRung(dead), { name: 'mqtt', open: () => connectMqtt('mqtt://127.0.0.1:1'), connectTimeoutMs: 3000 }]);
    c.on('error', () => undefined);
    const err = await c.open().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'SignalingError', code: 'connect-failed' });
    expect((err as Error).message).toMatch(/hub: .*; mqtt: /);
  });
});
