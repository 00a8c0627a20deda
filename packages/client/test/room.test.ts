/**
 * Rooms over a real hub: which room takes a message. A signal names its room; one without
 * a room (a third-party client may send it) goes to the oldest room the sender shares with
 * us, never to several: two peer connections must not both take one peer's SDP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Json } from '@pinhole/protocol';
import { HubSignaler } from '../src/signaling/hub-signaler.js';
import { nodePlatform } from '@pinhole/node';
import { Room } from '../src/room.js';
import { startTestHub } from '@pinhole/test-kit/hub';
import { until } from '@pinhole/test-kit/wait';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function signaler(url: string): Promise<HubSignaler> {
  const s = new HubSignaler(url, { platform: nodePlatform(), openTimeoutMs: 2000, reconnect: false });
  cleanup.push(() => s.close());
  await s.open();
  return s;
}

function messages(room: Room): Json[] {
  const got: Json[] = [];
  room.on('message', ({ data }) => got.push(data));
  return got;
}

describe('which room takes a signal', () => {
  it('a signal naming a room goes to that room; one without a room to the oldest shared room only', async () => {
    const hub = await startTestHub();
    cleanup.push(() => hub.close());
    const [a, b] = await Promise.all([signaler(hub.url), signaler(hub.url)]);
    const a1 = await Room.join(a, 'one', {}, { connect: false });
    const a2 = await Room.join(a, 'two', {}, { connect: false });
    const a3 = await Room.join(a, 'three', {}, { connect: false }); // b is not in it
    const b1 = await Room.join(b, 'one', {}, { connect: false });
    const b2 = await Room.join(b, 'two', {}, { connect: false });
    await until(() => a1.peers.has(b.localId) && a2.peers.has(b.localId));
    const [in1, in2, in3] = [messages(a1), messages(a2), messages(a3)];

    b2.send(a.localId, 'to two');
    b.signal(a.localId, 'roomless');
    b1.send(a.localId, 'to one');
    await until(() => in1.length === 2 && in2.length === 1);
    expect(in1).toEqual(['roomless', 'to one']);
    expect(in2).toEqual(['to two']);

    // Once the oldest shared room is left, the next one takes roomless signals.
    await a1.leave();
    await until(() => !b1.peers.has(a.localId));
    b.signal(a.localId, 'roomless again');
    await until(() => in2.length === 2);
    expect(in2).toEqual(['to two', 'roomless again']);
    expect(in1).toHaveLength(2);
    expect(in3).toEqual([]);
  });
});

describe('service members', () => {
  it('a member the hub marks as a service gets no peer connection and is listed in room.services', async () => {
    const { NodeRTCPeerConnection } = await import('@pinhole/node');
    const hub = await startTestHub();
    cleanup.push(() => hub.close());
    const service = new HubSignaler(hub.url, { platform: nodePlatform(), openTimeoutMs: 2000, reconnect: false, token: await hub.serviceToken('sfu') });
    cleanup.push(() => service.close());
    await service.open();
    await service.join('r', { name: 'SFU' });
    const [a, b] = await Promise.all([signaler(hub.url), signaler(hub.url)]);
    const room = await Room.join(a, 'r', {}, { RTCPeerConnection: NodeRTCPeerConnection });
    cleanup.push(() => room.leave());
    const joined: string[] = [];
    room.on('service-joined', (info) => joined.push(info.peer));
    expect([...room.services.values()]).toEqual([{ peer: service.localId, meta: { name: 'SFU' }, service: 'sfu' }]);
    expect(room.peers.has(service.localId)).toBe(false);

    // A participant joining after us is a peer with a connection; the service is not.
    const other = await Room.join(b, 'r', {}, { RTCPeerConnection: NodeRTCPeerConnection });
    cleanup.push(() => other.leave());
    await until(() => room.peers.has(b.localId));
    expect(room.peers.get(b.localId)!.connection).toBeDefined();
    expect(other.services.has(service.localId)).toBe(true);
    expect(other.peers.has(service.localId)).toBe(false);

    // Its messages come through as messages from its peer id; its leaving is service-left.
    const got: Json[] = [];
    room.on('message', ({ from, data }) => got.push([typeof from === 'string' ? from : from.id, data]));
    service.signal(a.localId, { type: 'pinhole:sfu-tracks', publisher: 'x', tracks: [] }, 'r');
    await until(() => got.length === 1);
    expect(got).toEqual([[service.localId, { type: 'pinhole:sfu-tracks', publisher: 'x', tracks: [] }]]);
    const left: string[] = [];
    room.on('service-left', ({ service: info }) => left.push(info.peer));
    await service.leave('r');
    await until(() => left.length === 1);
    expect(room.services.size).toBe(0);
    expect(joined).toEqual([]);
  });
});
