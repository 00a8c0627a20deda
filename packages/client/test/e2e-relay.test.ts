/**
 * Node ↔ Node with `iceTransportPolicy: 'relay'` through a real hub that hands out TURN
 * REST credentials for a real TURN server (ours): the SDK uses the welcome's ICE servers
 * as they are (usernames `expiry:identity`), keeps host candidates out of the SDP (libjuice
 * writes them there even under 'relay'), and the report shows a relayed pair.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTurnServer, type TurnServer } from '@pinhole/turn';
import type { RunningHub } from '@pinhole/server';
import { connect, type Session } from '@pinhole/node';
import { startTestHub } from '@pinhole/test-kit/hub';
import { until } from '@pinhole/test-kit/wait';

const SECRET = 'relay-test-secret-'.padEnd(40, 'x');
let turn: TurnServer;
let hub: RunningHub;
const sessions: Session[] = [];

beforeAll(async () => {
  // Relays on 127.0.0.2, peers on 127.0.0.1: a permission for the other side's relayed
  // address does not let a peer's own socket in, so only relay ↔ relay can connect.
  turn = await startTurnServer({ listeningIp: '127.0.0.1', relayIp: '127.0.0.2', relayBindIp: '127.0.0.2', udpPort: 0, tcpPort: 0, secret: SECRET, allowPeers: ['127.0.0.0/8'] });
  hub = await startTestHub({ secret: SECRET, turn: { urls: [`turn:127.0.0.1:${turn.ports.udp}?transport=udp`] } });
});

afterAll(async () => {
  for (const s of sessions) await s.close();
  await hub?.close();
  await turn?.close();
});

it('connects relay-only with the hub-issued credentials; the report says relay/udp', async () => {
  const { mintToken } = await import('@pinhole/server');
  const open = async (identity: string): Promise<Session> => {
    const s = await connect(hub.url, { token: await mintToken(SECRET, { identity, room: 'relay' }, 600), iceTransportPolicy: 'relay' });
    sessions.push(s);
    return s;
  };
  const a = await open('alice');
  const b = await open('bob');
  expect(a.iceServers[0]?.username).toMatch(/^\d+:alice$/);
  const ra = await a.join('relay');
  const joined = ra.next('peer-joined', 5000);
  const rb = await b.join('relay');
  const pa = await joined;
  const pb = rb.peers.get(a.peerId)!;
  const got: unknown[] = [];
  pa.on('channel', (ch) => ch.on('message', (m) => got.push(m.data)));
  pb.channel('via-turn').send('through the relay');
  await until(() => got.length === 1, 20_000, 'a message through the relay');
  expect(got).toEqual(['through the relay']);
  const report = await pb.report();
  expect(report.candidateType).toEqual({ local: 'relay', remote: 'relay' });
  expect(report.protocol).toBe('udp');
});
