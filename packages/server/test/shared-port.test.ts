/**
 * One port for HTTP(S)/WSS and STUN/TURN over TCP and TLS (startHub `singlePort`), with the
 * real embedded TURN server behind it: what reaches which handler, and that connections
 * that are silent, garbage or too many are closed without disturbing the others.
 */
import { get as httpsGet } from 'node:https';
import { type Socket, connect as tcpConnect } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { Agent, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MessageClass, Method, StreamFramer, StunMessage, decodeStunMessage, startTurnServer, turnCredentials, type TurnServer } from '@pinhole/turn';
import { mintToken, type RunningHub, type SinglePortOptions } from '../src/index.js';
import { TestTurnClient, udpPeer } from '@pinhole/test-kit/turn-client';
import { TLS_CERT as CERT, TLS_KEY as KEY } from '@pinhole/test-kit/turn-server';
import { TestClient } from './support/client.js';
import { startTestHub } from './support/hub.js';

const SECRET = 'shared-port-secret';

let turn: TurnServer | undefined;
let hub: RunningHub | undefined;
const open: { destroy(): void }[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) s.destroy();
  await hub?.close();
  await turn?.close();
  hub = turn = undefined;
});

async function start(tls: boolean, single: Partial<SinglePortOptions> = {}): Promise<RunningHub> {
  turn = await startTurnServer({ listeningIp: '127.0.0.1', udpPort: 0, tcpPort: 0, secret: SECRET, allowPeers: ['127.0.0.0/8'], minPort: 40000, maxPort: 48999 });
  const t = turn;
  hub = await startTestHub({
    secret: SECRET,
    turn: { urls: ['turn:127.0.0.1:3478?transport=udp'] },
    ...(tls ? { tls: { cert: CERT, key: KEY } } : {}),
    singlePort: { stun: (socket, transport) => t.acceptConnection(socket, transport), turnHost: '127.0.0.1', ...single },
  });
  return hub;
}

let identities = 0;
const token = (): Promise<string> => mintToken(SECRET, { identity: `user-${++identities}` }, 600);

/** A raw connection to the port; resolves once connected. */
function raw(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect({ host: '127.0.0.1', port, localAddress }, () => resolve(s));
    s.once('error', reject);
    open.push(s);
  });
}

/** Resolves when `socket` closes (by the server); rejects after `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve();
    const timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
    socket.on('error', () => undefined);
    // Read what comes (a TLS alert, say): a paused socket would never see the FIN.
    socket.resume();
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Sends `request` on a stream and resolves with the first STUN message that comes back. */
function stunExchange(socket: Socket, request: Buffer): Promise<StunMessage> {
  return new Promise((resolve, reject) => {
    const framer = new StreamFramer(1 << 16);
    socket.on('data', (chunk: Buffer) => {
      const [frame] = framer.push(chunk);
      if (frame) resolve(decodeStunMessage(frame));
    });
    socket.once('close', () => reject(new Error('closed before a STUN response')));
    socket.write(request);
  });
}

async function metric(h: RunningHub, name: string, label: string): Promise<number> {
  const text = await h.metrics.registry.metrics();
  const m = new RegExp(`^${name}\\{[^}]*="${label}"[^}]*\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

function httpsJson(port: number, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    httpsGet({ host: '127.0.0.1', port, path, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as unknown }));
    }).on('error', reject);
  });
}

describe('shared port with TLS', () => {
  it('HTTPS with ALPN http/1.1 and without ALPN both reach the hub', async () => {
    const h = await start(true);
    // Node's https client offers no ALPN: told apart by the first decrypted byte.
    expect(await httpsJson(h.port, '/healthz')).toMatchObject({ status: 200 });
    // A browser offers ALPN: told apart by it, without peeking.
    const alpn = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: h.port, rejectUnauthorized: false, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
        expect(s.alpnProtocol).toBe('http/1.1');
        s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
      let text = '';
      s.on('data', (c: Buffer) => (text += c.toString()));
      s.on('end', () => resolve(text));
      s.on('error', reject);
    });
    expect(alpn).toMatch(/^HTTP\/1\.1 200/);
    expect(await metric(h, 'pinhole_port_connections_total', 'https')).toBe(2);
  });

  it('a WebSocket upgrade through the port gets a welcome naming turns: on the same port', async () => {
    const h = await start(true);
    const ws = new WebSocket(`wss://127.0.0.1:${h.port}/v1/ws`, { rejectUnauthorized: false });
    open.push({ destroy: () => ws.terminate() });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const welcome = new Promise<{ type: string; iceServers: { urls: string[] }[] }>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
    ws.send(JSON.stringify({ type: 'hello', token: await token() }));
    const frame = await welcome;
    expect(frame.type).toBe('welcome');
    expect(frame.iceServers.flatMap((s) => s.urls)).toContain(`turns:127.0.0.1:${h.port}?transport=tcp`);
  });

  it('TURN over TLS (no ALPN): allocation and relay through the shared port', async () => {
    const h = await start(true);
    const c = turnCredentials(SECRET, 'alice', 600);
    const client = await TestTurnClient.connect({ transport: 'tls', port: h.port, username: c.username, password: c.credential });
    open.push({ destroy: () => client.close() });
    const peer = await udpPeer();
    open.push({ destroy: () => peer.close() });
    const relayed = await client.allocate();
    await client.createPermission(peer.address);
    client.send(peer.address, Buffer.from('through 443'));
    const got = await peer.next(5000);
    expect(got.data.toString()).toBe('through 443');
    expect(got.from.port).toBe(relayed.port);
    expect(await metric(h, 'pinhole_port_connections_total', 'turn-tls')).toBe(1);
  });

  it('a client offering ALPN http/1.1 and stun.turn (as coturn\'s does) gets stun.turn and TURN', async () => {
    const h = await start(true);
    const s = await new Promise<TLSSocket>((resolve, reject) => {
      const t = tlsConnect({ host: '127.0.0.1', port: h.port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1', 'stun.turn', 'stun.nat-discovery'] }, () => resolve(t));
      t.once('error', reject);
      open.push(t);
    });
    expect(s.alpnProtocol).toBe('stun.turn');
    const response = await stunExchange(s, new StunMessage(Method.Binding, MessageClass.Request).encode({ fingerprint: true }));
    expect(response.cls).toBe(MessageClass.SuccessResponse);
    expect(await metric(h, 'pinhole_port_connections_total', 'turn-tls')).toBe(1);
  });

  it('a STUN binding over TCP on the port answers with the XOR-MAPPED-ADDRESS', async () => {
    const h = await start(true);
    const s = await raw(h.port);
    const response = await stunExchange(s, new StunMessage(Method.Binding, MessageClass.Request).encode({ fingerprint: true }));
    expect(response.cls).toBe(MessageClass.SuccessResponse);
    expect(response.get('XOR-MAPPED-ADDRESS')).toMatchObject({ address: '127.0.0.1', port: s.localPort });
    expect(await metric(h, 'pinhole_port_connections_total', 'turn-tcp')).toBe(1);
  });

  it('garbage, silence and TLS garbage are closed and counted; a WebSocket session on the port carries on', async () => {
    const h = await start(true, { classifyTimeoutMs: 1500 });
    const ws = new WebSocket(`wss://127.0.0.1:${h.port}/v1/ws`, { rejectUnauthorized: false });
    open.push({ destroy: () => ws.terminate() });
    const frames: { type: string }[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d)) as { type: string }));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ type: 'hello', token: await token() }));

    const garbage = await raw(h.port);
    garbage.write(Buffer.from([0xff, 0x00, 0x13, 0x37, 0xde, 0xad, 0xbe, 0xef]));
    const notStun = await raw(h.port); // first bits 00 but no magic cookie
    notStun.write(Buffer.from([0x00, 0x01, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78]));
    const plainHttp = await raw(h.port); // plain HTTP on a TLS port: not served
    plainHttp.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const badTls = await raw(h.port);
    // A handshake record holding a one-byte ClientHello: OpenSSL rejects it at once.
    badTls.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0xff]));
    const silent = await raw(h.port);
    const stalledHello = await raw(h.port); // the start of a ClientHello, then nothing (slowloris)
    stalledHello.write(Buffer.from([0x16, 0x03, 0x01]));
    await Promise.all([garbage, notStun, plainHttp, badTls].map((s, i) => closedWithin(s, 1000).catch((e) => { throw new Error(`socket ${i}: ${e}`); })));
    await Promise.all([closedWithin(silent, 10_000), closedWithin(stalledHello, 10_000)]);

    ws.send(JSON.stringify({ type: 'join', room: 'still-here', id: 1 }));
    await expect.poll(() => frames.map((f) => f.type), { timeout: 5000 }).toEqual(expect.arrayContaining(['welcome', 'joined']));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(await metric(h, 'pinhole_port_refused_total', 'garbage')).toBe(2);
    expect(await metric(h, 'pinhole_port_refused_total', 'unserved')).toBe(1);
    expect(await metric(h, 'pinhole_port_refused_total', 'tls-failed')).toBe(1);
    expect(await metric(h, 'pinhole_port_refused_total', 'timeout')).toBe(2);
  });

  it('on a dual-stack listener (::) IPv4 clients are limited per address, not as one IPv6 /64', async () => {
    const t = await startTurnServer({ listeningIp: '127.0.0.1', udpPort: 0, tcpPort: 0, secret: SECRET });
    hub = await startTestHub({ host: '::', secret: SECRET, tls: { cert: CERT, key: KEY }, singlePort: { stun: (s, tr) => t.acceptConnection(s, tr), maxPendingPerSource: 2 } });
    try {
      const first = [await raw(hub.port), await raw(hub.port)];
      const other = await raw(hub.port, '127.0.0.5');
      await new Promise((r) => setTimeout(r, 300));
      expect([...first, other].every((s) => !s.destroyed && s.readyState === 'open')).toBe(true);
      expect(await metric(hub, 'pinhole_port_refused_total', 'over-limit')).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('a flood of garbage connections does not stop HTTPS requests or a live WebSocket', async () => {
    const h = await start(true);
    const ws = new WebSocket(`wss://127.0.0.1:${h.port}/v1/ws`, { rejectUnauthorized: false });
    open.push({ destroy: () => ws.terminate() });
    const frames: { type: string }[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d)) as { type: string }));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ type: 'hello', token: await token() }));
    await expect.poll(() => frames.length, { timeout: 5000 }).toBeGreaterThan(0);

    // From another address (the flooder's): past 64 undecided it is refused on arrival, the others are not.
    const FLOOD = 200;
    const flood = Array.from({ length: FLOOD }, (_, i) => raw(h.port, '127.0.0.5').then((s) => {
      s.write(Buffer.from([0xff - (i % 64), ...Array.from({ length: 31 }, () => i % 256)]));
      return closedWithin(s, 10_000);
    }));
    // While the flood is handled: requests and the session still work.
    const during = await Promise.all([httpsJson(h.port, '/healthz'), httpsJson(h.port, '/healthz')]);
    ws.send(JSON.stringify({ type: 'join', room: 'under-flood', id: 1 }));
    await Promise.all(flood);
    expect(during.map((r) => r.status)).toEqual([200, 200]);
    await expect.poll(() => frames.map((f) => f.type), { timeout: 5000 }).toContain('joined');
    const refused = (await metric(h, 'pinhole_port_refused_total', 'garbage')) + (await metric(h, 'pinhole_port_refused_total', 'over-limit'));
    expect(refused).toBe(FLOOD);
  });

  it('undecided connections past the per-source limit are closed at once; decided ones do not count', async () => {
    const h = await start(true, { maxPendingPerSource: 2 });
    const silent = [await raw(h.port), await raw(h.port)];
    const third = await raw(h.port);
    await closedWithin(third, 2000);
    expect(silent.every((s) => !s.destroyed)).toBe(true);
    expect(await metric(h, 'pinhole_port_refused_total', 'over-limit')).toBe(1);
    // Once one of them speaks, it is no longer pending: room for another.
    silent[0]!.write(new StunMessage(Method.Binding, MessageClass.Request).encode());
    await expect.poll(async () => metric(h, 'pinhole_port_connections_total', 'turn-tcp')).toBe(1);
    expect(await httpsJson(h.port, '/healthz')).toMatchObject({ status: 200 });
  });
});

describe('shared port with TLS: SSE and long-poll', () => {
  // The test client's fetch trusts the test certificate (for this file's worker only).
  const previous = getGlobalDispatcher();
  beforeAll(() => setGlobalDispatcher(new Agent({ connect: { ca: CERT } })));
  afterAll(() => setGlobalDispatcher(previous));

  it.each(['sse', 'poll'] as const)('%s over HTTPS through the port: a signal goes from one client to the other', async (transport) => {
    const h = await start(true);
    expect(h.url).toMatch(/^https:/);
    const a = new TestClient(h.url, { transport, token: await token() });
    const b = new TestClient(h.url, { transport, token: await token() });
    open.push({ destroy: () => void a.close() }, { destroy: () => void b.close() });
    await a.connect();
    await b.connect();
    a.send({ type: 'join', room: 'r' });
    await a.next((f) => f.type === 'joined');
    b.send({ type: 'join', room: 'r' });
    await b.next((f) => f.type === 'joined');
    b.send({ type: 'signal', to: a.peer, data: 'via 443' });
    expect(await a.next((f) => f.type === 'signal')).toMatchObject({ from: b.peer, data: 'via 443' });
    expect(await metric(h, 'pinhole_port_connections_total', 'https')).toBeGreaterThan(0);
  });
});

describe('shared port without TLS', () => {
  it.each(['ws', 'sse', 'poll'] as const)('%s signaling through the port: two clients exchange a signal', async (transport) => {
    const h = await start(false);
    const t = await token();
    const a = new TestClient(h.url, { transport, token: t });
    const b = new TestClient(h.url, { transport, token: t });
    open.push({ destroy: () => void a.close() }, { destroy: () => void b.close() });
    const welcome = await a.connect();
    expect(welcome.iceServers?.flatMap((s) => s.urls)).toContain(`turn:127.0.0.1:${h.port}?transport=tcp`);
    await b.connect();
    a.send({ type: 'join', room: 'r' });
    await a.next((f) => f.type === 'joined');
    b.send({ type: 'join', room: 'r' });
    await b.next((f) => f.type === 'joined');
    b.send({ type: 'signal', to: a.peer, data: 'via one port' });
    expect(await a.next((f) => f.type === 'signal')).toMatchObject({ from: b.peer, data: 'via one port' });
    expect(await metric(h, 'pinhole_port_connections_total', 'http')).toBeGreaterThan(0);
  });

  it('STUN over TCP and TURN over TCP share the port with plain HTTP', async () => {
    const h = await start(false);
    const c = turnCredentials(SECRET, 'bob', 600);
    const client = await TestTurnClient.connect({ transport: 'tcp', port: h.port, username: c.username, password: c.credential });
    open.push({ destroy: () => client.close() });
    await client.allocate();
    const res = await fetch(`${h.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await metric(h, 'pinhole_port_connections_total', 'turn-tcp')).toBe(1);
    expect(await metric(h, 'pinhole_port_connections_total', 'http')).toBe(1);
  });

  it('stopping the hub ends kept-alive HTTP connections at once (the HTTP server never listens itself)', async () => {
    const h = await start(false);
    const s = await raw(h.port);
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => s.once('data', resolve));
    const closed = closedWithin(s, 1000);
    const t0 = Date.now();
    await h.close();
    hub = undefined;
    await closed;
    // Before the fix the close waited for the client's keep-alive to run out.
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
