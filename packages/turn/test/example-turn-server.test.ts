/** Smoke test of examples/turn-server: its iceServers allocate a relay and data reaches a peer. */
import { afterAll, describe, expect, it } from 'vitest';
import { startExampleTurn, type ExampleTurn } from '../../../examples/turn-server/server.js';
import { TestTurnClient, udpPeer } from '@pinhole/test-kit/turn-client';

let turn: ExampleTurn | undefined;
afterAll(() => turn?.close());

describe('examples/turn-server', () => {
  it('mints iceServers that allocate and relay', async () => {
    turn = await startExampleTurn({ secret: 'example-secret', host: '127.0.0.1', port: 0, allowPeers: ['127.0.0.0/8'] });
    const [stun, relay] = turn.iceServersFor('alice', 600);
    expect(stun!.urls[0]).toBe(`stun:127.0.0.1:${turn.server.ports.udp}`);
    expect(relay!.urls).toEqual([`turn:127.0.0.1:${turn.server.ports.udp}?transport=udp`, `turn:127.0.0.1:${turn.server.ports.tcp}?transport=tcp`]);
    expect(relay!.username).toMatch(/^\d+:alice$/);

    const peer = await udpPeer();
    const client = await TestTurnClient.connect({ transport: 'tcp', port: turn.server.ports.tcp, username: relay!.username!, password: relay!.credential! });
    try {
      await client.allocate();
      await client.createPermission(peer.address);
      client.send(peer.address, Buffer.from('hi from the example'));
      expect((await peer.next()).data.toString()).toBe('hi from the example');
    } finally {
      client.close();
      peer.close();
    }
    expect(turn.server.stats().packetsToPeers).toBe(1);
  });
});
