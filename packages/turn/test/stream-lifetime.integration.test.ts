import { type Socket, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageClass, Method, StunMessage, type TurnServer, type TurnServerOptions } from '../src/index.js';
import { connectionSource } from '../src/node/connection-limits.js';
import { creds, startTestServer } from '@pinhole/test-kit/turn-server';
import { eventually } from '@pinhole/test-kit/wait';
import { type TestTransport, TestTurnClient } from '@pinhole/test-kit/turn-client';

/**
 * Issue 13 item 6: a TURN TCP/TLS connection lives no longer than its allocation, one that never
 * allocates times out, and connections are bounded in total and per source. Real sockets on
 * loopback; waits are bounded generously (a loaded machine is slow, never wrong).
 */
const SLOW_MS = 10_000;

let servers: TurnServer[] = [];
let clients: { close(): void }[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function server(options: TurnServerOptions = {}): Promise<TurnServer> {
  const s = await startTestServer(options);
  servers.push(s);
  return s;
}

function portOf(s: TurnServer, transport: TestTransport): number {
  return transport === 'tls' ? (s.ports.tls ?? 0) : s.ports.tcp;
}

async function turnClient(s: TurnServer, transport: TestTransport, localAddress?: string): Promise<TestTurnClient> {
  const client = await TestTurnClient.connect({ transport, port: portOf(s, transport), ...creds(), ...(localAddress && { local: { address: localAddress } }) });
  clients.push(client);
  return client;
}

/** A TCP connection that sends nothing; `closed` resolves when the server closes it. */
function rawConnection(port: number, localAddress = '127.0.0.1'): { socket: Socket; closed: Promise<void> } {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => undefined);
  clients.push({ close: () => socket.destroy() });
  return { socket, closed: new Promise((resolve) => socket.once('close', () => resolve())) };
}

/** Resolves with `promise`, or rejects saying what did not happen in SLOW_MS. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${SLOW_MS} ms`)), SLOW_MS))]);
}

async function bindingWorks(client: TestTurnClient): Promise<boolean> {
  const response = await client.request(new StunMessage(Method.Binding, MessageClass.Request), SLOW_MS);
  return response.cls === MessageClass.SuccessResponse;
}

describe.each(['tcp', 'tls'] as const)('TURN over %s: the connection closes with its allocation', (transport) => {
  it('Refresh with LIFETIME 0: the response arrives, then the server closes the connection', async () => {
    const s = await server();
    const client = await turnClient(s, transport);
    await client.allocate();
    expect((await client.refresh(0)).get('LIFETIME')).toBe(0);
    await within(client.closed, 'connection closed after Refresh 0');
    await eventually(() => s.stats().connections === 0 && s.stats().allocations === 0, SLOW_MS);
  });

  it('allocation expiry (1 s lifetime) closes the connection', async () => {
    const s = await server({ defaultLifetimeSeconds: 1, maxLifetimeSeconds: 1, tickIntervalMs: 100 });
    const client = await turnClient(s, transport);
    await client.allocate();
    await within(client.closed, 'connection closed after expiry');
    await eventually(() => s.stats().connections === 0 && s.stats().allocations === 0, SLOW_MS);
  });
});

describe('connections that never allocate time out (streamIdleTimeoutMs)', () => {
  const streamIdleTimeoutMs = 300;

  it.each(['tcp', 'tls'] as const)('%s: a connection that only sends a Binding request is closed', async (transport) => {
    const s = await server({ streamIdleTimeoutMs });
    const client = await turnClient(s, transport);
    expect(await bindingWorks(client)).toBe(true);
    await within(client.closed, 'idle connection closed');
  });

  it('tls: a TCP connection that never starts the TLS handshake is closed', async () => {
    const s = await server({ streamIdleTimeoutMs });
    await within(rawConnection(s.ports.tls ?? 0).closed, 'connection without handshake closed');
  });

  it('a connection that allocated is kept past the timeout', async () => {
    const s = await server({ streamIdleTimeoutMs });
    const client = await turnClient(s, 'tcp');
    await client.allocate();
    await new Promise((r) => setTimeout(r, 5 * streamIdleTimeoutMs));
    expect((await client.refresh(600)).get('LIFETIME')).toBe(600);
    expect(s.stats().connections).toBe(1);
  });
});

describe('connection limits', () => {
  it('maxStreamConnectionsPerSource: the next connection from that address is closed at once, another address still gets in', async () => {
    const s = await server({ maxStreamConnectionsPerSource: 2 });
    const admitted = [await turnClient(s, 'tcp'), await turnClient(s, 'tls')];
    for (const client of admitted) expect(await bindingWorks(client)).toBe(true);
    await within(rawConnection(s.ports.tcp).closed, 'third TCP connection from 127.0.0.1 closed');
    await within(rawConnection(s.ports.tls ?? 0).closed, 'third (TLS) connection from 127.0.0.1 closed');
    expect(s.stats().refusedConnections).toBe(2);
    expect(await bindingWorks(await turnClient(s, 'tcp', '127.0.0.2'))).toBe(true);
    // A closed connection frees its place.
    admitted[0]?.close();
    await eventually(() => s.stats().connections === 2, SLOW_MS);
    expect(await bindingWorks(await turnClient(s, 'tcp'))).toBe(true);
  });

  it('maxStreamConnections: TCP and TLS together, from any address', async () => {
    const s = await server({ maxStreamConnections: 3 });
    const admitted = [await turnClient(s, 'tcp'), await turnClient(s, 'tls', '127.0.0.2'), await turnClient(s, 'tcp', '127.0.0.3')];
    for (const client of admitted) expect(await bindingWorks(client)).toBe(true);
    await within(rawConnection(s.ports.tls ?? 0, '127.0.0.4').closed, 'fourth connection closed');
    await within(rawConnection(s.ports.tcp, '127.0.0.5').closed, 'fifth connection closed');
    expect(s.stats().connections).toBe(3);
  });

  it('the default per-source limit admits a busy office behind one NAT (20 connections from one address)', async () => {
    const s = await server();
    const clientsFromOneAddress = await Promise.all(Array.from({ length: 20 }, () => turnClient(s, 'tcp')));
    for (const client of clientsFromOneAddress) expect(await bindingWorks(client)).toBe(true);
  });

  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:ffff::1', '2001:db8:1:2::/64'],
  ])('a connection from %s counts against %s', (ip, source) => {
    expect(connectionSource(ip)).toBe(source);
  });
});
