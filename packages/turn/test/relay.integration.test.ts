import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TurnServer } from '../src/index.js';
import { freeUdpPort } from '@pinhole/test-kit/ports';
import { TestTurnClient, type TestTransport, udpPeer } from '@pinhole/test-kit/turn-client';
import { creds, startTestServer } from '@pinhole/test-kit/turn-server';

let server: TurnServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

function portFor(transport: TestTransport): number {
  return transport === 'udp' ? server.ports.udp : transport === 'tcp' ? server.ports.tcp : (server.ports.tls ?? 0);
}

describe.each<TestTransport>(['udp', 'tcp', 'tls'])('TURN over %s with a Node client', (transport) => {
  it('Allocate + CreatePermission + Send reaches a UDP peer, and the reply comes back as a Data indication', async () => {
    const peer = await udpPeer();
    const client = await TestTurnClient.connect({ transport, port: portFor(transport), ...creds() });
    try {
      const relayed = await client.allocate();
      expect(relayed).toMatchObject({ family: 4, address: '127.0.0.1' });
      const permission = await client.createPermission(peer.address);
      expect(permission.get('ERROR-CODE')).toBeUndefined();
      client.send(peer.address, Buffer.from('hello peer'));
      const got = await peer.next();
      expect(got.data.toString()).toBe('hello peer');
      expect(got.from.port).toBe(relayed.port);
      peer.socket.send(Buffer.from('hello client'), relayed.port, relayed.address);
      const back = await client.nextData();
      expect(back.data.toString()).toBe('hello client');
      expect(back.peer).toEqual(peer.address);
    } finally {
      client.close();
      peer.close();
    }
  });

  it('ChannelBind carries odd-sized ChannelData both ways', async () => {
    const peer = await udpPeer();
    const client = await TestTurnClient.connect({ transport, port: portFor(transport), ...creds('bob') });
    try {
      const relayed = await client.allocate();
      const bound = await client.channelBind(0x4001, peer.address);
      expect(bound.get('ERROR-CODE')).toBeUndefined();
      client.sendChannel(0x4001, Buffer.from('abc'));
      expect((await peer.next()).data.toString()).toBe('abc');
      client.sendChannel(0x4001, Buffer.from('defgh'));
      expect((await peer.next()).data.toString()).toBe('defgh');
      peer.socket.send(Buffer.from('xyz12'), relayed.port, relayed.address);
      const back = await client.nextData();
      expect(back).toMatchObject({ channel: 0x4001 });
      expect(back.data.toString()).toBe('xyz12');
    } finally {
      client.close();
      peer.close();
    }
  });
});

describe('UDP clients that share a source port', () => {
  // The UDP listener keeps one 5-tuple per source port (node/udp-clients.ts); two clients on
  // the same port but different addresses must still be two 5-tuples, two allocations.
  it('127.0.0.1:P and 127.0.0.2:P get their own allocations, and interleaved ChannelData leaves from the right relay', async () => {
    const peer = await udpPeer();
    const port = await freeUdpPort();
    const clients = await Promise.all(
      ['127.0.0.1', '127.0.0.2'].map((address, i) =>
        TestTurnClient.connect({ transport: 'udp', port: server.ports.udp, ...creds(`shared${i}`), local: { address, port } }),
      ),
    );
    try {
      const relays = [];
      for (const client of clients) {
        relays.push(await client.allocate());
        expect((await client.channelBind(0x4000, peer.address)).get('ERROR-CODE')).toBeUndefined();
      }
      expect(relays[0]?.port).not.toBe(relays[1]?.port);
      for (const i of [0, 1, 0, 1, 1, 0]) {
        clients[i]?.sendChannel(0x4000, Buffer.from(`from ${i}`));
        const got = await peer.next();
        expect(got.data.toString()).toBe(`from ${i}`);
        expect(got.from.port).toBe(relays[i]?.port);
      }
      // And back: each relay delivers to its own client.
      for (const i of [1, 0]) {
        peer.socket.send(Buffer.from(`to ${i}`), relays[i]?.port ?? 0, '127.0.0.1');
        expect((await clients[i]?.nextData())?.data.toString()).toBe(`to ${i}`);
      }
    } finally {
      for (const client of clients) client.close();
      peer.close();
    }
  });
});
