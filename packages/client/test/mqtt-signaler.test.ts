/**
 * The MQTT signaler against a real Mosquitto: two node-datachannel peers meet in a room and
 * echo over a data channel, presence (join, leave, a vanished peer's last will), messages to
 * one peer and to the room, and malformed broker payloads.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect as mqttConnect } from 'mqtt';
import { connectMqtt } from '@pinhole/node';
import type { MqttSignaler } from '../src/signaling/mqtt.js';
import type { SignalingError } from '../src/signaling/errors.js';
import { Mosquitto } from '@pinhole/test-kit/mosquitto';
import { until } from '@pinhole/test-kit/wait';
import { echoOverDataChannel, meet, nodeRoom, presenceScenario } from './support/rendezvous.js';

let broker: Mosquitto;
beforeAll(async () => {
  broker = await Mosquitto.start();
});
afterAll(() => broker?.stop());

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function signaler(options: Parameters<typeof connectMqtt>[1] = {}): Promise<MqttSignaler> {
  const s = await connectMqtt(broker.url, options);
  cleanup.push(() => s.close());
  return s;
}

describe('MqttSignaler with a real Mosquitto', () => {
  it('two Node peers meet in a room and echo over a data channel; the report names mqtt', async () => {
    const [a, b] = [await signaler(), await signaler()];
    const ra = await nodeRoom(a, 'mqtt e2e/#1', { name: 'alice' });
    const rb = await nodeRoom(b, 'mqtt e2e/#1', { name: 'bob' });
    cleanup.push(() => ra.leave(), () => rb.leave());
    expect([...rb.peers.keys()]).toEqual([a.localId]); // alice was there first: in bob's join result
    const { pa, pb } = await meet(ra, rb);
    expect(pb.meta).toEqual({ name: 'alice' });
    expect(await echoOverDataChannel(pa, pb)).toEqual({ echo: { hello: 'echo' } });
    const report = await pa.report();
    expect(report.state).toBe('connected');
    expect(report.transport).toBe('mqtt/mqtt');
  });

  it('presence: join, leave, messages to one peer and to the room (not echoed to the sender)', async () => {
    await presenceScenario(signaler);
  });

  it('a peer that vanishes (socket cut, no leave) is reported gone by its last will; a late joiner does not keep it', async () => {
    const [a, b] = [await signaler(), await signaler()];
    await a.join('will');
    await b.join('will');
    const left = a.next('peer-left', 10_000);
    b.client!.options.reconnectPeriod = 0; // stay dead
    b.client!.stream.destroy(); // the broker sees the TCP connection drop without DISCONNECT
    expect(await left).toEqual({ room: 'will', peer: b.localId, reason: 'vanished' });

    const late = await signaler();
    const lateLeft: string[] = [];
    late.on('peer-left', ({ peer, reason }) => lateLeft.push(`${peer} ${reason}`));
    await late.join('will');
    // b's presence may still be retained (it expires after the TTL), but its retained will says it is gone.
    const ids = (): string[] => late.members('will').map((m) => m.peer);
    await until(() => !ids().includes(b.localId), 5000, 'the late joiner to drop b');
    expect(ids()).toEqual([a.localId]);
  });

  it('a member whose presence is not refreshed in time is reported gone (timeout)', async () => {
    const a = await signaler({ presenceTtlMs: 1500 });
    await a.join('ttl');
    // A raw client announces a presence once and never refreshes it (and has no will).
    // Listen first: the broker may deliver the presence to `a` before it acks the publish.
    const joined = a.next('peer-joined', 5000);
    const raw = mqttConnect(broker.url, { protocolVersion: 5 });
    cleanup.push(() => raw.endAsync());
    await raw.publishAsync('pinhole/v1/room/ttl/presence/ghost-peer', JSON.stringify({ v: 1, peer: 'ghost-peer', meta: {} }), {
      qos: 1,
      retain: true,
      properties: { messageExpiryInterval: 1 },
    });
    expect((await joined).peer.peer).toBe('ghost-peer');
    expect(await a.next('peer-left', 5000)).toEqual({ room: 'ttl', peer: 'ghost-peer', reason: 'timeout' });
  });

  it.each([
    ['not JSON', '{nope', /not UTF-8 JSON/],
    ['not UTF-8', Buffer.from([0xff, 0xfe, 0x7b]), /not UTF-8 JSON/],
    ['an array', '[1,2]', /not a JSON object/],
    ['another version', '{"v":2,"from":"x","n":1,"data":1}', /unsupported version 2/],
    ['a bad sender id', '{"v":1,"from":"a/b","n":1,"data":1}', /"from" is not a peer id/],
    ['no sequence number', '{"v":1,"from":"abc","data":1}', /"n" is not a positive integer/],
    ['no data', '{"v":1,"from":"abc","n":1}', /"data" is missing/],
    ['a presence where a signal belongs', '{"v":1,"peer":"abc","meta":{}}', /not a signal or broadcast message/],
  ])('a malformed signal payload (%s) is an error event with code bad-payload; the signaler keeps working', async (_name, payload, message) => {
    const a = await signaler();
    await a.join('bad');
    const errors: SignalingError[] = [];
    a.on('error', (e) => errors.push(e));
    const raw = mqttConnect(broker.url, { protocolVersion: 5 });
    cleanup.push(() => raw.endAsync());
    await raw.publishAsync(`pinhole/v1/room/bad/signal/${a.localId}`, payload as string, { qos: 1 });
    await until(() => errors.length === 1, 5000, 'the error event');
    expect(errors[0]).toMatchObject({ name: 'SignalingError', code: 'bad-payload' });
    expect(errors[0]!.message).toMatch(message);
    // Still works: a good signal after the bad one is delivered.
    const good = a.next('signal', 5000);
    await raw.publishAsync(`pinhole/v1/room/bad/signal/${a.localId}`, JSON.stringify({ v: 1, from: 'goodpeer', n: 1, data: 'ok' }), { qos: 1 });
    expect((await good).data).toBe('ok');
  });

  it('a malformed presence is an error event, and duplicates or replays of a message are dropped', async () => {
    const a = await signaler();
    await a.join('dup');
    const errors: SignalingError[] = [];
    a.on('error', (e) => errors.push(e));
    const raw = mqttConnect(broker.url, { protocolVersion: 5 });
    cleanup.push(() => raw.endAsync());
    await raw.publishAsync('pinhole/v1/room/dup/presence/spoofed', JSON.stringify({ v: 1, peer: 'someone-else', meta: {} }), { qos: 1 });
    await until(() => errors.length === 1, 5000, 'the error event');
    expect(errors[0]!.message).toMatch(/not a presence of spoofed/);
    const got: unknown[] = [];
    a.on('signal', ({ data }) => got.push(data));
    for (const n of [1, 1, 2, 1, 3]) {
      await raw.publishAsync(`pinhole/v1/room/dup/signal/${a.localId}`, JSON.stringify({ v: 1, from: 'sender', n, data: n }), { qos: 1 });
    }
    await until(() => got.length === 3, 5000, 'three signals');
    expect(got).toEqual([1, 2, 3]);
  });

  it('an unreachable broker rejects open() with connect-failed', async () => {
    const err = await connectMqtt('mqtt://127.0.0.1:1', { connectTimeoutMs: 3000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'SignalingError', code: 'connect-failed' });
  });
});
