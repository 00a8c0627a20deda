/**
 * Sealed signaling with real carriers: two Node peers connect through a real Mosquitto
 * while a raw subscriber on the room's topics sees no SDP, candidate or name; a peer with
 * the wrong passphrase (or none) gets error events and never connects; tampered and
 * malformed sealed payloads are dropped with typed errors; the same over the hub.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect as mqttConnect } from 'mqtt';
import { connectMqtt, nodePlatform, SealedSignaler, type MqttSignaler } from '@pinhole/node';
import { HubSignaler } from '../src/signaling/hub-signaler.js';
import type { SignalingError } from '../src/signaling/errors.js';
import { Mosquitto } from '@pinhole/test-kit/mosquitto';
import { startTestHub } from '@pinhole/test-kit/hub';
import { until } from '@pinhole/test-kit/wait';
import { echoOverDataChannel, meet, nodeRoom } from './support/rendezvous.js';

let broker: Mosquitto;
beforeAll(async () => {
  broker = await Mosquitto.start();
});
afterAll(() => broker?.stop());

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function mqtt(): Promise<MqttSignaler> {
  const s = await connectMqtt(broker.url);
  cleanup.push(() => s.close());
  return s;
}

async function sealedMqtt(passphrase: string): Promise<{ s: SealedSignaler; errors: SignalingError[] }> {
  const s = new SealedSignaler(await mqtt(), { passphrase });
  const errors: SignalingError[] = [];
  s.on('error', (e) => errors.push(e as SignalingError));
  return { s, errors };
}

describe('SealedSignaler', () => {
  it('over Mosquitto: peers connect and echo; a raw subscriber sees only sealed payloads (no SDP, candidates or names)', async () => {
    const seen: string[] = [];
    const spy = mqttConnect(broker.url, { protocolVersion: 5 });
    cleanup.push(() => spy.endAsync());
    spy.on('message', (_topic, payload) => seen.push(payload.toString()));
    await spy.subscribeAsync('pinhole/v1/#');

    const [a, b] = [await sealedMqtt('correct horse'), await sealedMqtt('correct horse')];
    const ra = await nodeRoom(a.s, 'sealed room', { name: 'alice' });
    const rb = await nodeRoom(b.s, 'sealed room', { name: 'bob' });
    cleanup.push(() => ra.leave(), () => rb.leave());
    const { pa, pb } = await meet(ra, rb);
    expect(pb.meta).toEqual({ name: 'alice' }); // the meta opened on the other side
    expect(await echoOverDataChannel(pa, pb)).toEqual({ echo: { hello: 'echo' } });
    expect(await pa.report()).toMatchObject({ state: 'connected', signaler: 'mqtt', transport: 'mqtt/mqtt+sealed' });
    expect([...a.errors, ...b.errors]).toEqual([]);

    const all = seen.join('\n');
    expect(seen.filter((p) => p.includes('"sealed":1')).length).toBeGreaterThanOrEqual(4); // two metas, offer, answer at least
    for (const plain of ['v=0', 'candidate', 'a=', 'alice', 'bob', 'offer', 'answer']) expect(all).not.toContain(plain);
  });

  it('a peer with the wrong passphrase gets decrypt-failed events and never connects; one without a seal gets ignored as not-sealed', async () => {
    const [a, b, wrong] = [await sealedMqtt('right'), await sealedMqtt('right'), await sealedMqtt('wrong')];
    const ra = await nodeRoom(a.s, 'guarded');
    const rw = await nodeRoom(wrong.s, 'guarded');
    const plain = await mqtt();
    const rp = await nodeRoom(plain, 'guarded');
    const rb = await nodeRoom(b.s, 'guarded');
    cleanup.push(() => ra.leave(), () => rw.leave(), () => rp.leave(), () => rb.leave());
    const { pa, pb } = await meet(ra, rb);
    expect(await echoOverDataChannel(pa, pb)).toEqual({ echo: { hello: 'echo' } });
    // A direct signal from the wrong peer (it names the room) is dropped by a as well.
    wrong.s.signal(a.s.localId, { type: 'offer' }, 'guarded');
    await until(() => a.errors.some((e) => e.message.startsWith(`signal guarded ${wrong.s.localId}`)), 5000, "a to drop the wrong peer's signal");

    expect([...ra.peers.keys()]).toEqual([b.s.localId]);
    expect([...rb.peers.keys()]).toEqual([a.s.localId]);
    expect(rw.peers.size).toBe(0);
    expect(wrong.errors.length).toBeGreaterThan(0);
    expect(wrong.errors.every((e) => e.name === 'SignalingError' && ['decrypt-failed', 'not-sealed'].includes(e.code))).toBe(true);
    expect(wrong.errors.map((e) => e.code)).toContain('decrypt-failed');
    expect(a.errors.map((e) => e.code).sort()).toEqual(expect.arrayContaining(['decrypt-failed', 'not-sealed']));
    expect(a.errors.find((e) => e.code === 'not-sealed')!.message).toMatch(new RegExp(`meta guarded ${plain.localId}: not a sealed payload`));
  });

  it('tampered, malformed and unsealed payloads are dropped with typed errors; the signaler keeps working', async () => {
    const a = await sealedMqtt('pass');
    await a.s.join('tamper');
    const raw = mqttConnect(broker.url, { protocolVersion: 5 });
    cleanup.push(() => raw.endAsync());
    const topic = `pinhole/v1/room/tamper/signal/${a.s.localId}`;
    // A genuine sealed signal from 'sender', captured from a second sealed signaler's output.
    const sender = new SealedSignaler(await mqtt(), { passphrase: 'pass' });
    cleanup.push(() => sender.close());
    await sender.join('tamper');
    const received = a.s.next('signal', 5000);
    const captured = await new Promise<Record<string, unknown>>((resolve) => {
      raw.on('message', (_t, p) => resolve(JSON.parse(p.toString()) as Record<string, unknown>));
      void raw.subscribeAsync(topic).then(() => sender.signal(a.s.localId, { secret: 1 }, 'tamper'));
    });
    expect((await received).data).toEqual({ secret: 1 }); // a gets the genuine one
    const env = captured.data as { iv: string; ct: string };
    const flip = (s: string): string => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    let n = 100;
    const publish = (data: unknown): Promise<unknown> => raw.publishAsync(topic, JSON.stringify({ v: 1, from: sender.localId, n: n++, data }), { qos: 1 });
    const cases: [unknown, string, RegExp][] = [
      [{ ...env, sealed: 1, ct: flip(env.ct) }, 'decrypt-failed', /does not decrypt/],
      [{ ...env, sealed: 2 }, 'bad-payload', /unsupported sealed version 2/],
      [{ sealed: 1, iv: '!!', ct: env.ct }, 'bad-payload', /"iv" is not base64url/],
      [{ sealed: 1, iv: 'AAAA', ct: env.ct }, 'bad-payload', /"iv" must be 12 bytes/],
      [{ sdp: 'v=0' }, 'not-sealed', /not a sealed payload/],
      ['plain text', 'not-sealed', /not a sealed payload/],
    ];
    for (const [data, code, message] of cases) {
      const err = a.s.next('error', 5000);
      await publish(data);
      const e = (await err) as SignalingError;
      expect([e.code, e.message]).toEqual([code, expect.stringMatching(message)]);
    }
    // Replaying the genuine payload as coming from another peer fails: the sender is authenticated data.
    const err = a.s.next('error', 5000);
    await raw.publishAsync(topic, JSON.stringify({ v: 1, from: 'impostor', n: 1, data: env }), { qos: 1 });
    expect(((await err) as SignalingError).code).toBe('decrypt-failed');
    // (The forged numbers above were past the sender's own: a fresh peer shows a still opens payloads.)
    const fresh = new SealedSignaler(await mqtt(), { passphrase: 'pass' });
    cleanup.push(() => fresh.close());
    await fresh.join('tamper');
    const good = a.s.next('signal', 5000);
    fresh.signal(a.s.localId, 'still works', 'tamper');
    expect((await good).data).toBe('still works');
  });

  it('over the hub: peers connect and echo, and a wrong passphrase never connects', async () => {
    const hub = await startTestHub();
    cleanup.push(() => hub.close());
    const sealedHub = async (passphrase: string): Promise<SealedSignaler> => {
      const inner = await new HubSignaler(hub.url, { platform: nodePlatform(), reconnect: false }).open();
      cleanup.push(() => inner.close());
      const s = new SealedSignaler(inner, { passphrase });
      s.on('error', () => undefined);
      return s;
    };
    const [a, b, wrong] = [await sealedHub('hub pass'), await sealedHub('hub pass'), await sealedHub('other')];
    const ra = await nodeRoom(a, 'sealed-hub', { name: 'alice' });
    const rw = await nodeRoom(wrong, 'sealed-hub');
    const rb = await nodeRoom(b, 'sealed-hub');
    cleanup.push(() => ra.leave(), () => rw.leave(), () => rb.leave());
    const { pa, pb } = await meet(ra, rb);
    expect(pb.meta).toEqual({ name: 'alice' });
    expect(await echoOverDataChannel(pa, pb)).toEqual({ echo: { hello: 'echo' } });
    expect(await pa.report()).toMatchObject({ signaler: 'hub', transport: 'hub/ws+sealed' });
    expect(rw.peers.size).toBe(0);
    expect([...ra.peers.keys()]).toEqual([b.localId]);
  });
});
