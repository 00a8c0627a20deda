/**
 * In-band signaling between two node-datachannel peers connected by the manual offer/answer
 * strings only: afterwards their signals travel over the connection's control channel (a
 * ManualSignaler does this by itself; an InBandSignaler around any signaler does the same),
 * a data channel opened later works, garbage on the control channel is refused with a typed
 * error (and answered with an error frame) while the connection keeps working, and a rebuild
 * — which replaces the connection the channel runs on — is reported as needing a new
 * exchange. Over MQTT, an InBandSignaler switches to in-band once the broker is gone.
 * (node-datachannel cannot renegotiate or restart ICE in place; that part runs in Chromium:
 * test/browser/in-band.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Json } from '@pinhole/protocol';
import { ANSWERER_ID, ManualSignaler, OFFERER_ID } from '../src/signaling/manual.js';
import { InBandSignaler } from '../src/signaling/in-band.js';
import type { SignalingError } from '../src/signaling/errors.js';
import { connectMqtt } from '@pinhole/node';
import { Mosquitto } from '@pinhole/test-kit/mosquitto';
import { until } from '@pinhole/test-kit/wait';
import { echoOverDataChannel, meet, nodeRoom } from './support/rendezvous.js';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/**
 * Two rooms connected by exchanging only the manual strings, the answer applied the moment
 * it is made. A ManualSignaler goes in-band by itself; `wrapped` puts each in an
 * InBandSignaler as well (what a chain or hub would need). (That the answer may come at
 * once, on a loaded machine too, is manual-early-answer.test.ts; before the answering side
 * held the offer's candidates back, this needed a person's pace and a redo.)
 */
async function manualPair(wrapped = false) {
  const pair = await manualExchange(wrapped);
  const states = () => [pair.pa, pair.pb].map((p) => `${p.connection!.connectionState} gen ${p.connection!.gen}`).join(', ');
  const echoed = await echoOverDataChannel(pair.pa, pair.pb).catch((err: Error) => {
    throw new Error(`${err.message} (connections: ${states()})`);
  });
  expect(echoed).toEqual({ echo: { hello: 'echo' } });
  expect(states()).toBe('connected gen 0, connected gen 0');
  await until(() => !!pair.offering.inBand(ANSWERER_ID)?.open && !!pair.answering.inBand(OFFERER_ID)?.open, 10_000, 'both control channels open');
  return pair;
}

async function manualExchange(wrapped: boolean) {
  const offerManual = new ManualSignaler({ role: 'offer' });
  const answerManual = new ManualSignaler({ role: 'answer' });
  const offering = wrapped ? new InBandSignaler(offerManual) : offerManual;
  const answering = wrapped ? new InBandSignaler(answerManual) : answerManual;
  const errors: { offering: SignalingError[]; answering: SignalingError[] } = { offering: [], answering: [] };
  offering.on('error', (e) => errors.offering.push(e as SignalingError));
  answering.on('error', (e) => errors.answering.push(e as SignalingError));
  const ra = await nodeRoom(offering, 'in-band');
  cleanup.push(() => offering.close(), () => ra.leave());
  await answerManual.remote(await offerManual.local(10_000));
  const rb = await nodeRoom(answering, 'in-band');
  cleanup.push(() => answering.close(), () => rb.leave());
  await offerManual.remote(await answerManual.local(10_000));
  const { pa, pb } = await meet(ra, rb);
  const close = async () => {
    await Promise.all([ra.leave(), rb.leave()]);
    await Promise.all([offering.close(), answering.close()]);
  };
  return { offering, answering, ra, rb, pa, pb, errors, close };
}

/** A late trickled candidate of generation `gen` (a host candidate nobody listens on: ICE tries it and moves on). */
const lateCandidate = (gen = 0): Json => ({
  pinhole: 'rtc',
  gen,
  candidate: { candidate: 'candidate:9 1 UDP 2122317823 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: null },
});

describe('in-band signaling after a manual exchange (node-datachannel)', () => {
  it('signals the manual exchange cannot carry go over the control channel (also wrapped in an InBandSignaler); a data channel opened later works', async () => {
    const { offering, answering, pa, pb, errors } = await manualPair(true);
    // A late candidate: the spent manual exchange could not carry it; the counters show the path.
    const arrived = answering.next('signal', 5000);
    offering.signal(ANSWERER_ID, lateCandidate(), 'in-band');
    expect(await arrived).toMatchObject({ room: 'in-band', from: OFFERER_ID, data: { pinhole: 'rtc', gen: 0, candidate: { sdpMid: '0' } } });
    expect(offering.inBand(ANSWERER_ID)).toEqual({ open: true, sent: 1, received: 0 });
    expect(answering.inBand(OFFERER_ID)).toEqual({ open: true, sent: 0, received: 1 });
    // The answering side opens a channel of its own after the fact.
    expect(await echoOverDataChannel(pb, pa, 'later')).toEqual({ echo: { hello: 'later' } });
    expect(pa.connection!.connectionState).toBe('connected');
    expect(errors).toEqual({ offering: [], answering: [] });
  });

  const bigSdp = `v=0\r\n${'a=x\r\n'.repeat(14_000)}`;
  const garbage: [string, string | Uint8Array, RegExp][] = [
    ['not JSON', '{nope', /not JSON/],
    ['binary', new Uint8Array([1, 2, 3]), /binary messages are not in-band signals/],
    ['an array', '[1,2]', /not a JSON object/],
    ['another kind of frame', '{"pinhole":"chat","text":"hi"}', /"pinhole" is "chat"/],
    ['another generation', '{"pinhole":"rtc","gen":7,"restart":"rebuild"}', /"gen" 7 is not this connection's generation 0/],
    ['no payload field', '{"pinhole":"rtc","gen":0}', /exactly one of/],
    ['two payload fields', '{"pinhole":"rtc","gen":0,"candidate":null,"restart":"ice"}', /exactly one of/],
    ['a description that is no SDP', '{"pinhole":"rtc","gen":0,"description":{"type":"offer","sdp":"hello"}}', /"description" is not/],
    ['a bad setup', '{"pinhole":"rtc","gen":0,"description":{"type":"offer","sdp":"v=0"},"setup":"passive"}', /"setup" is not "active"/],
    ['a bad candidate', '{"pinhole":"rtc","gen":0,"candidate":{"candidate":42}}', /"candidate" is not null or/],
    ['a bad restart', '{"pinhole":"rtc","gen":0,"restart":"now"}', /"restart" is not "ice" or "rebuild"/],
    ['an oversized frame', JSON.stringify({ pinhole: 'rtc', gen: 0, description: { type: 'offer', sdp: bigSdp } }), /bytes is over 65536/],
  ];

  // One connection takes every kind of garbage in turn (fewer manual exchanges, and it shows
  // that a connection survives all of them).
  it('garbage on the control channel is refused with bad-payload, each frame answered; the connection keeps working', async () => {
    const { offering, answering, pa, pb, errors } = await manualPair();
    for (const [name, frame, message] of garbage) {
      const n = errors.answering.length;
      pa.connection!.control.send(frame as string);
      await until(() => errors.answering.length === n + 1 && errors.offering.length === n + 1, 10_000, `the error for ${name} and its answer`);
      expect(errors.answering[n], name).toMatchObject({ name: 'SignalingError', code: 'bad-payload' });
      expect(errors.answering[n]!.message, name).toMatch(message);
      // The sender learns of it from the error frame (which is never answered itself).
      expect(errors.offering[n], name).toMatchObject({ name: 'SignalingError', code: 'bad-payload' });
      expect(errors.offering[n]!.message, name).toMatch(new RegExp(`^${ANSWERER_ID} refused an in-band frame of ours: in-band frame: `));
    }
    expect(answering.inBand(OFFERER_ID)?.received).toBe(0);
    // Still connected, channels still work, and a good in-band signal still arrives.
    expect([pa.connection!.connectionState, pb.connection!.connectionState]).toEqual(['connected', 'connected']);
    expect(await echoOverDataChannel(pa, pb, 'after')).toEqual({ echo: { hello: 'after' } });
    const arrived = answering.next('signal', 5000);
    offering.signal(ANSWERER_ID, { pinhole: 'rtc', gen: 0, candidate: null }, 'in-band');
    expect((await arrived).data).toEqual({ pinhole: 'rtc', gen: 0, candidate: null });
    expect([errors.offering.length, errors.answering.length]).toEqual([garbage.length, garbage.length]);
  });

  it('a rebuild cannot travel in-band (it replaces the connection): the manual signaler says a new exchange is needed', async () => {
    const { pa, errors } = await manualPair();
    const restarts: string[] = [];
    pa.connection!.on('restart', (e) => restarts.push(`${e.mode} ${e.gen}`));
    pa.connection!.restartIce('test'); // node-datachannel cannot restart ICE in place
    await until(() => errors.offering.length > 0, 5000, 'the error');
    expect(restarts).toEqual(['rebuild 1']);
    expect(errors.offering[0]).toMatchObject({ name: 'SignalingError', code: 'unsupported' });
    expect(errors.offering[0]!.message).toMatch(/needs a new exchange/);
  });
});

describe('in-band signaling as the fallback of a broker signaler', () => {
  it('over MQTT, later signals go through the broker while it works, and in-band once it is gone (on a rebuilt connection too)', async () => {
    const broker = await Mosquitto.start();
    cleanup.push(() => broker.stop());
    const [a, b] = [new InBandSignaler(await connectMqtt(broker.url)), new InBandSignaler(await connectMqtt(broker.url))];
    cleanup.push(() => a.close(), () => b.close());
    const ra = await nodeRoom(a, 'fallback');
    const rb = await nodeRoom(b, 'fallback');
    cleanup.push(() => ra.leave(), () => rb.leave());
    const { pa, pb } = await meet(ra, rb);
    expect(await echoOverDataChannel(pa, pb)).toEqual({ echo: { hello: 'echo' } });
    await until(() => !!a.inBand(b.localId)?.open && !!b.inBand(a.localId)?.open, 10_000, 'both control channels open');

    // A rebuild (node-datachannel repairs that way) goes through the broker; in-band
    // signaling follows the new connection's control channel.
    pa.connection!.restartIce('test');
    // (A rebuilt connection can meet libdatachannel's early-answer race, docs/architecture.md;
    // then the SDK's own repair rebuilds again, so wait for any later generation that comes up on both sides.)
    const rebuilt = (): boolean => pa.connection!.gen > 0 && pa.connection!.gen === pb.connection!.gen && pa.connection!.connectionState === 'connected' && pb.connection!.connectionState === 'connected';
    await until(rebuilt, 30_000, 'the rebuilt connection');
    const gen = pa.connection!.gen;
    await until(() => !!a.inBand(b.localId)?.open && !!b.inBand(a.localId)?.open, 10_000, 'the new control channels open');
    expect(await echoOverDataChannel(pa, pb, 'rebuilt')).toEqual({ echo: { hello: 'rebuilt' } });
    const sentBefore = a.inBand(b.localId)!.sent;

    let arrived = b.next('signal', 5000);
    a.signal(b.localId, lateCandidate(gen), 'fallback');
    expect((await arrived).data).toMatchObject({ pinhole: 'rtc', gen, candidate: { sdpMid: '0' } });
    expect(a.inBand(b.localId)!.sent).toBe(sentBefore); // through the broker

    await broker.stop('SIGKILL'); // unreachable: no last wills, the rooms keep their members
    await until(() => a.state === 'reconnecting', 10_000, 'the MQTT signaler to notice the broker is gone');
    arrived = b.next('signal', 5000);
    a.signal(b.localId, lateCandidate(gen), 'fallback');
    expect((await arrived).data).toMatchObject({ pinhole: 'rtc', gen, candidate: { sdpMid: '0' } });
    expect(a.inBand(b.localId)!.sent).toBe(sentBefore + 1); // in-band
    expect(b.inBand(a.localId)!.received).toBe(1);
    expect(pa.connection!.connectionState).toBe('connected');
  }, 60_000);
});
