/** Helpers shared by the rendezvous tests: rooms of Node peers over any Signaler, and an echo check. */
import { expect } from 'vitest';
import { Room } from '../../src/room.js';
import { NodeRTCPeerConnection } from '@pinhole/node';
import type { Signaler } from '../../src/signaling/signaler.js';
import type { RemotePeer } from '../../src/remote-peer.js';
import type { BrokerSignaler } from '../../src/signaling/broker-signaler.js';
import { until } from '@pinhole/test-kit/wait';

/** Joins `name` on `signaler` with node-datachannel peer connections (host candidates only). */
export function nodeRoom(signaler: Signaler, name: string, meta = {}, options: { connectTimeoutMs?: number } = {}): Promise<Room> {
  // A first connection that libdatachannel leaves stuck on a loaded machine (see node.ts) is
  // rebuilt after connectTimeoutMs: 8 s keeps that repair inside the tests' 20 s echo wait.
  return Room.join(signaler, name, meta, { RTCPeerConnection: NodeRTCPeerConnection, configuration: () => ({ iceServers: [] }), connectTimeoutMs: 8000, ...options });
}

/** `b` echoes on every channel `a` opens; resolves with what came back for one JSON message. */
export async function echoOverDataChannel(a: RemotePeer, b: RemotePeer, label = 'echo'): Promise<unknown> {
  b.on('channel', (ch) => ch.on('message', (m) => ch.send(m.kind === 'json' ? { echo: m.data } : m.data)));
  const channel = a.channel(label);
  const replies: unknown[] = [];
  channel.on('message', (m) => replies.push(m.data));
  channel.send({ hello: label });
  await until(() => replies.length > 0, 20_000, `an echo on '${label}'`);
  return replies[0];
}

/** Waits until both rooms see each other and returns each side's RemotePeer for the other. */
export async function meet(ra: Room, rb: Room): Promise<{ pa: RemotePeer; pb: RemotePeer }> {
  await until(() => ra.peers.has(rb.localId) && rb.peers.has(ra.localId), 10_000, 'both rooms to see each other');
  return { pa: ra.peers.get(rb.localId)!, pb: rb.peers.get(ra.localId)! };
}

/**
 * The presence scenario every broker signaler must pass: join results and peer-joined,
 * a signal to one member (with and without a room), a broadcast not echoed to its sender,
 * leave seen by the others, and a newcomer that no longer sees who left.
 */
export async function presenceScenario(signaler: () => Promise<BrokerSignaler>): Promise<void> {
  const [a, b, c] = [await signaler(), await signaler(), await signaler()];
  expect(await a.join('presence', { n: 'a' })).toEqual([]);
  const seen = a.next('peer-joined', 5000);
  expect(await b.join('presence', { n: 'b' })).toEqual([{ peer: a.localId, meta: { n: 'a' } }]);
  expect(await seen).toEqual({ room: 'presence', peer: { peer: b.localId, meta: { n: 'b' } } });
  const cPeers = await c.join('presence', { n: 'c' });
  expect(cPeers.map((p) => p.peer).sort()).toEqual([a.localId, b.localId].sort());

  const toB = b.next('signal', 5000);
  a.signal(b.localId, { hi: 'b' }, 'presence');
  expect(await toB).toEqual({ room: 'presence', from: a.localId, data: { hi: 'b' } });
  const roomless = b.next('signal', 5000);
  a.signal(b.localId, 'no room given'); // goes through the room they share
  expect((await roomless).data).toBe('no room given');

  const broadcasts: string[] = [];
  for (const s of [a, b, c]) s.on('broadcast', ({ from }) => broadcasts.push(`${s.localId}<${from}`));
  c.broadcast('presence', { all: true });
  await until(() => broadcasts.length === 2, 5000, 'two broadcasts');
  expect(broadcasts.sort()).toEqual([`${a.localId}<${c.localId}`, `${b.localId}<${c.localId}`].sort());

  const left = a.next('peer-left', 5000);
  await b.leave('presence');
  expect(await left).toEqual({ room: 'presence', peer: b.localId, reason: 'leave' });
  // A newcomer no longer sees b (its presence was removed).
  const d = await signaler();
  expect((await d.join('presence')).map((p) => p.peer).sort()).toEqual([a.localId, c.localId].sort());
}
