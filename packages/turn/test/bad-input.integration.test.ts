import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, MessageClass, Method, StunMessage, TurnError, type TurnServer, decodeStunMessage, longTermKey, startTurnServer } from '../src/index.js';
import { TestTurnClient, udpPeer } from '@pinhole/test-kit/turn-client';
import { SECRET, creds, startTestServer } from '@pinhole/test-kit/turn-server';
import { eventually } from '@pinhole/test-kit/wait';

let server: TurnServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

/** A Binding round trip over UDP: proof the server is still serving. */
async function bindingWorks(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  try {
    const request = new StunMessage(Method.Binding, MessageClass.Request);
    const reply = new Promise<Buffer>((resolve) => socket.once('message', resolve));
    socket.send(request.encode(), port, '127.0.0.1');
    const data = await Promise.race([reply, new Promise<undefined>((r) => setTimeout(() => r(undefined), 1000))]);
    return data !== undefined && decodeStunMessage(data).cls === MessageClass.SuccessResponse;
  } finally {
    socket.close();
  }
}

describe('hostile input over real sockets', () => {
  it('random, truncated and corrupted UDP datagrams: no crash, no allocation, still serving', async () => {
    const socket = createSocket('udp4');
    const before = server.stats();
    const valid = new StunMessage(Method.Allocate, MessageClass.Request).add('REQUESTED-TRANSPORT', 17).add('USERNAME', 'x').encode({ fingerprint: true });
    for (let i = 0; i < 3000; i++) {
      const kind = i % 3;
      const packet =
        kind === 0 ? randomBytes(1 + Math.floor(Math.random() * 1400)) : kind === 1 ? valid.subarray(0, Math.floor(Math.random() * valid.length)) : Buffer.concat([valid.subarray(0, 20), randomBytes(64)]);
      socket.send(packet, server.ports.udp, '127.0.0.1');
      if (i % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 200));
    socket.close();
    expect(await bindingWorks(server.ports.udp)).toBe(true);
    const after = server.stats();
    expect(after.allocations).toBe(0);
    expect(after.allocationsCreated).toBe(before.allocationsCreated);
    expect(after.malformedPackets - before.malformedPackets).toBeGreaterThan(1000);
  });

  it.each([
    ['tcp', 'an HTTP request', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['tcp', 'a STUN-like header without the magic cookie', Buffer.concat([Buffer.from('00010010', 'hex'), randomBytes(64)])],
    ['tcp', 'bytes with the top bits 11', Buffer.from('ffffffffffffffff', 'hex')],
    ['tls', 'plaintext instead of a TLS handshake', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
  ] as const)('%s: %s closes that connection at once, and only that one', async (transport, _what, garbage) => {
    const port = transport === 'tcp' ? server.ports.tcp : (server.ports.tls ?? 0);
    const socket = connect({ host: '127.0.0.1', port });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write(garbage);
    const started = Date.now();
    await closed;
    expect(Date.now() - started).toBeLessThan(2000);
    const client = await TestTurnClient.connect({ transport, port, ...creds() });
    try {
      expect(await client.allocate()).toMatchObject({ address: '127.0.0.1' });
    } finally {
      client.close();
    }
    expect(await bindingWorks(server.ports.udp)).toBe(true);
  });

  it('wrong credentials → 401 and an auth failure, no allocation', async () => {
    const before = server.stats();
    const client = await TestTurnClient.connect({ transport: 'udp', port: server.ports.udp, username: creds().username, password: 'wrong' });
    try {
      await expect(client.allocate()).rejects.toThrow('Allocate failed: 401');
    } finally {
      client.close();
    }
    const after = server.stats();
    expect(after.authFailures).toBeGreaterThan(before.authFailures);
    expect(after.allocations).toBe(0);
  });

  it('a tampered nonce → 438 Stale Nonce with a new NONCE', async () => {
    const { username, password } = creds();
    const client = await TestTurnClient.connect({ transport: 'udp', port: server.ports.udp, username, password });
    try {
      const first = await client.request(new StunMessage(Method.Allocate, MessageClass.Request).add('REQUESTED-TRANSPORT', 17));
      const nonce = first.get('NONCE') ?? '';
      const forged = new StunMessage(Method.Allocate, MessageClass.Request)
        .add('REQUESTED-TRANSPORT', 17)
        .add('USERNAME', username)
        .add('REALM', 'pinhole')
        .add('NONCE', nonce.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')));
      const response = await client.request(forged, 2000, longTermKey(username, 'pinhole', password));
      expect(response.get('ERROR-CODE')?.code).toBe(ErrorCode.StaleNonce);
      expect(response.get('NONCE')).toMatch(/^obMatJos2/);
    } finally {
      client.close();
    }
  });

  it('a forbidden peer → 403 on CreatePermission and ChannelBind; Send to it is dropped and counted', async () => {
    const client = await TestTurnClient.connect({ transport: 'udp', port: server.ports.udp, ...creds() });
    const forbidden = { family: 4 as const, address: '10.11.12.13', port: 5000 };
    try {
      await client.allocate();
      expect((await client.createPermission(forbidden)).get('ERROR-CODE')?.code).toBe(ErrorCode.Forbidden);
      expect((await client.channelBind(0x4000, forbidden)).get('ERROR-CODE')?.code).toBe(ErrorCode.Forbidden);
      const before = server.stats();
      client.send(forbidden, Buffer.from('x'));
      await eventually(() => server.stats().refusedPeers > before.refusedPeers);
      expect(server.stats().packetsToPeers).toBe(before.packetsToPeers);
      expect((await client.refresh(0)).get('LIFETIME')).toBe(0);
    } finally {
      client.close();
    }
  });

  it('486 once a user holds maxAllocationsPerUser allocations', async () => {
    const limited = await startTestServer({ maxAllocationsPerUser: 1, tls: undefined });
    const a = await TestTurnClient.connect({ transport: 'udp', port: limited.ports.udp, ...creds('quota') });
    const b = await TestTurnClient.connect({ transport: 'udp', port: limited.ports.udp, ...creds('quota') });
    try {
      await a.allocate();
      await expect(b.allocate()).rejects.toThrow('Allocate failed: 486');
      expect(limited.stats()).toMatchObject({ allocations: 1, quotaRejections: 1 });
    } finally {
      a.close();
      b.close();
      await limited.close();
    }
  });
});

describe('socket layer', () => {
  it('relay ports come from [minPort, maxPort] and Refresh 0 closes the relay socket', async () => {
    const ranged = await startTestServer({ minPort: 47000, maxPort: 47009, tls: undefined });
    const client = await TestTurnClient.connect({ transport: 'udp', port: ranged.ports.udp, ...creds() });
    try {
      const relayed = await client.allocate();
      expect(relayed.port).toBeGreaterThanOrEqual(47000);
      expect(relayed.port).toBeLessThanOrEqual(47009);
      await client.refresh(0);
      const probe = createSocket('udp4');
      await eventually(() => ranged.stats().allocations === 0);
      await new Promise<void>((resolve, reject) => {
        probe.once('error', reject);
        probe.bind(relayed.port, '127.0.0.1', () => resolve());
      });
      probe.close();
    } finally {
      client.close();
      await ranged.close();
    }
  });

  it('a closed TCP connection frees its allocation', async () => {
    const client = await TestTurnClient.connect({ transport: 'tcp', port: server.ports.tcp, ...creds() });
    await client.allocate();
    await eventually(() => server.stats().allocations === 1 && server.stats().connections >= 1);
    client.close();
    await eventually(() => server.stats().allocations === 0);
  });

  it('close() releases the listening ports', async () => {
    const s = await startTestServer({ tls: undefined });
    const { udp, tcp } = s.ports;
    await s.close();
    const again = await startTestServer({ udpPort: udp, tcpPort: tcp, tls: undefined });
    expect(again.ports).toMatchObject({ udp, tcp });
    await again.close();
  });

  it.each([
    ['no credentials', { secret: undefined }],
    ['a bad CIDR in allowPeers', { allowPeers: ['10.0.0.0/33'] }],
    ['an empty relay port range', { minPort: 50000, maxPort: 49999 }],
    ['no TCP/TLS connections allowed', { maxStreamConnections: 0 }],
    ['a fractional per-source connection limit', { maxStreamConnectionsPerSource: 1.5 }],
    ['a negative connection timeout', { streamIdleTimeoutMs: -1 }],
    ['a connection timeout beyond what a Node timer holds (it would fire at once)', { streamIdleTimeoutMs: 30 * 86_400_000 }],
    ['a listening host that does not resolve', { listeningIp: 'no-such-host.invalid' }],
  ])('rejects %s with TurnError invalid-options', async (_name, options) => {
    const error = await startTestServer(options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TurnError);
    expect(error).toMatchObject({ code: 'invalid-options' });
  });

  it("accepts a host name: 'localhost' listens on its address and relays from there", async () => {
    const s = await startTestServer({ listeningIp: 'localhost', tls: undefined });
    try {
      expect(s.relayIp).toMatch(/^(127\.0\.0\.1|::1)$/);
      if (s.relayIp === '127.0.0.1') expect(await bindingWorks(s.ports.udp)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('rejects a port already in use with TurnError bind-failed, leaving nothing open', async () => {
    const peer = await udpPeer();
    const error = await startTurnServer({ listeningIp: '127.0.0.1', udpPort: peer.address.port, tcpPort: 0, secret: SECRET }).catch((e: unknown) => e);
    peer.close();
    expect(error).toBeInstanceOf(TurnError);
    expect(error).toMatchObject({ code: 'bind-failed' });
  });
});
