/** Helpers shared by the rendezvous tests: rooms of Node peers over any Signaler, and an echo check. */
import { Room } from '../../src/room.js';
import { NodeRTCPeerConnection } from '../../src/node.js';
import type { Signaler } from '../../src/signaling/signaler.js';
import type { RemotePeer } from '../../src/remote-peer.js';
import { until } from './hub.js';

/** Joins `name` on `signaler` with node-datachannel peer connections (host candidates only). */
export function nodeRoom(signaler: Signaler, name: string, meta = {}): Promise<Room> {
  return Room.join(signaler, name, meta, { RTCPeerConnection: NodeRTCPeerConnection, configuration: () => ({ iceServers: [] }) });
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
