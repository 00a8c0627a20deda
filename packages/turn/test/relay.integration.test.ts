import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TurnServer } from '../src/index.js';
import { TestTurnClient, type TestTransport, udpPeer } from './helpers/turn-client.js';
import { creds, startTestServer } from './helpers/server.js';

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
