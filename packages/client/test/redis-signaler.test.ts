/**
 * The Redis signaler against a real redis-server: two node-datachannel peers meet in a room
 * and echo over a data channel, presence (join, leave, a vanished peer noticed after the
 * TTL), messages to one peer and to the room, malformed payloads, an unreachable server.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { connectRedis, type RedisSignaler } from '@pinhole/node';
import type { SignalingError } from '../src/signaling/errors.js';
import { TestRedis } from '@pinhole/test-kit/redis';
import { freeTcpPort } from '@pinhole/test-kit/ports';
import { until } from '@pinhole/test-kit/wait';
import { echoOverDataChannel, meet, nodeRoom, presenceScenario } from './support/rendezvous.js';

let server: TestRedis;
beforeAll(async () => {
  server = await TestRedis.start();
});
afterAll(() => server?.stop());

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function signaler(options: Parameters<typeof connectRedis>[1] = {}): Promise<RedisSignaler> {
  const s = await connectRedis(server.url, options);
  cleanup.push(() => s.close());
  return s;
}

function raw(): Redis {
  const r = new Redis(server.url);
  cleanup.push(() => r.quit());
  return r;
}

describe('RedisSignaler with a real redis-server', () => {
  it('two Node peers meet in a room and echo over a data channel; the report names redis', async () => {
    const [a, b] = [await signaler(), await signaler()];
    const ra = await nodeRoom(a, 'redis e2e:*#1', { name: 'alice' });
    const rb = await nodeRoom(b, 'redis e2e:*#1', { name: 'bob' });
    cleanup.push(() => ra.leave(), () => rb.leave());
    expect([...rb.peers.keys()]).toEqual([a.localId]); // alice was there first: in bob's join result
    const { pa, pb } = await meet(ra, rb);
    expect(pb.meta).toEqual({ name: 'alice' });
    expect(await echoOverDataChannel(pa, pb)).toEqual({ echo: { hello: 'echo' } });
    expect(await pa.report()).toMatchObject({ state: 'connected', signaler: 'redis', transport: 'redis/redis' });
  });

  it('presence: join, leave, messages to one peer and to the room (not echoed to the sender)', async () => {
    await presenceScenario(signaler);
  });

  it('a peer that vanishes (connections cut, no leave) is reported gone after the TTL, and a late joiner does not see it', async () => {
    const a = await signaler({ presenceTtlMs: 1500 });
    const b = await connectRedis(server.url, { presenceTtlMs: 1500, redisOptions: { retryStrategy: () => null } });
    await a.join('vanish');
    await b.join('vanish');
    const left = a.next('peer-left', 10_000);
    b.client!.disconnect(); // no DEL, no leave message: the peer is simply gone
    b.subscriber!.disconnect();
    expect(await left).toEqual({ room: 'vanish', peer: b.localId, reason: 'timeout' });
    const late = await signaler();
    expect((await late.join('vanish')).map((p) => p.peer)).toEqual([a.localId]); // b's key expired
  });

  it.each([
    ['not JSON', '{nope', /not UTF-8 JSON/],
    ['not UTF-8', Buffer.from([0xff, 0xfe, 0x7b]), /not UTF-8 JSON/],
    ['an array', '[1,2]', /not a JSON object/],
    ['another version', '{"v":2,"from":"x","n":1,"data":1}', /unsupported version 2/],
    ['a bad sender id', '{"v":1,"from":"a/b","n":1,"data":1}', /"from" is not a peer id/],
    ['no data', '{"v":1,"from":"abc","n":1}', /"data" is missing/],
    ['a presence where a signal belongs', '{"v":1,"peer":"abc","meta":{}}', /not a signal or broadcast message/],
  ])('a malformed signal payload (%s) is an error event with code bad-payload; the signaler keeps working', async (_name, payload, message) => {
    const a = await signaler();
    await a.join('bad');
    const errors: SignalingError[] = [];
    a.on('error', (e) => errors.push(e));
    const r = raw();
    await r.publish(`pinhole:v1:room:bad:signal:${a.localId}`, payload);
    await until(() => errors.length === 1, 5000, 'the error event');
    expect(errors[0]).toMatchObject({ name: 'SignalingError', code: 'bad-payload' });
    expect(errors[0]!.message).toMatch(message);
    const good = a.next('signal', 5000);
    await r.publish(`pinhole:v1:room:bad:signal:${a.localId}`, JSON.stringify({ v: 1, from: 'goodpeer', n: 1, data: 'ok' }));
    expect((await good).data).toBe('ok');
  });

  it('malformed presences (on the channel and in a member key) are error events; duplicates and replays are dropped', async () => {
    const r = raw();
    await r.set('pinhole:v1:room:dup:member:junk', '{"v":1,"peer":"junk"}', 'PX', 60_000);
    const a = await signaler();
    const errors: SignalingError[] = [];
    a.on('error', (e) => errors.push(e));
    expect(await a.join('dup')).toEqual([]);
    await r.publish('pinhole:v1:room:dup:presence', '{"v":1,"from":"abc","n":1,"data":1}');
    await until(() => errors.length === 2, 5000, 'two error events');
    expect(errors.map((e) => [e.code, e.message.replace(/^pinhole:v1:room:dup:\w+(:junk)?: /, '')])).toEqual([
      ['bad-payload', '"meta" is not a JSON object'],
      ['bad-payload', 'not a presence or leave message'],
    ]);
    const got: unknown[] = [];
    a.on('signal', ({ data }) => got.push(data));
    for (const n of [1, 1, 2, 1, 3]) await r.publish(`pinhole:v1:room:dup:signal:${a.localId}`, JSON.stringify({ v: 1, from: 'sender', n, data: n }));
    await until(() => got.length === 3, 5000, 'three signals');
    expect(got).toEqual([1, 2, 3]);
  });

  it('an unreachable server rejects open() with connect-failed', async () => {
    const port = await freeTcpPort();
    const err = await connectRedis(`redis://127.0.0.1:${port}`, { connectTimeoutMs: 3000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'SignalingError', code: 'connect-failed' });
    expect((err as Error).message).toMatch(new RegExp(`Redis redis://127.0.0.1:${port}: .*ECONNREFUSED`));
  });
});
