/**
 * Interop with aiortc (Python), through a real hub: the Node SDK (node-datachannel) and
 * test/interop/aiortc_peer.py, a client written from docs/protocol/ (hub.md, peer.md) alone. Both join
 * orders × both politeness roles (the impolite side offers, §12.1): the named channel both
 * sides open carries text, JSON and binary both ways, a file goes each way with its SHA-256
 * checked, sends are held to aiortc's a=max-message-size, and the SDK's trickle sequence
 * is the one §12.1 documents.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, DataError, type NodeConnectOptions, nodeFileSink, nodeFileSource, type ChannelMessage, type IncomingTransfer, type RemotePeer, type Room, type Session } from '@pinhole/node';
import { AiortcPeer, requireAiortc, type AiortcEvent } from './support/aiortc.js';
import { startTestHub } from '@pinhole/test-kit/hub';
import { until } from '@pinhole/test-kit/wait';
import { startTurnServer } from '@pinhole/turn';
import { mintToken } from '@pinhole/server';

const dir = mkdtempSync(join(tmpdir(), 'pinhole-aiortc-'));
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => requireAiortc());

/** aiortc's a=max-message-size (RTCSctpTransport.getCapabilities). */
const AIORTC_MAX_MESSAGE_SIZE = 65_536;
const FILE_BYTES = 300_000;

/** A session whose peer id sorts on the wanted side of `remoteId` (politeness is `localId < remoteId`). */
async function sessionPolite(url: string, remoteId: string, polite: boolean, options: NodeConnectOptions): Promise<Session> {
  for (;;) {
    const s = await connect(url, options);
    if (s.peerId < remoteId === polite) {
      cleanup.push(() => s.close());
      return s;
    }
    await s.close();
  }
}

async function meet(url: string, py: AiortcPeer, sdkFirst: boolean, sdkPolite: boolean, options: NodeConnectOptions = {}): Promise<{ room: Room; peer: RemotePeer }> {
  await py.next('welcome');
  const session = await sessionPolite(url, py.peerId, sdkPolite, options);
  let room: Room;
  if (sdkFirst) {
    room = await session.join('interop');
    py.command({ join: true });
    await py.next('joined');
  } else {
    py.command({ join: true });
    await py.next('joined');
    room = await session.join('interop');
  }
  await until(() => room.peers.has(py.peerId), 10_000, 'the aiortc peer in the room');
  return { room, peer: room.peers.get(py.peerId)! };
}

/** The signals the SDK sent, as aiortc received them, form §12.1's trickle sequence. */
function expectCleanTrickle(signals: AiortcEvent[]): void {
  expect(signals[0]?.['kind']).toBe('description');
  const sdp = signals[0]!['sdp'] as string;
  const inSdp = new Set(sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2)));
  const trickled = signals.filter((s) => s['kind'] === 'candidate').map((s) => s['candidate'] as string);
  for (const c of trickled) expect(inSdp.has(c), `${c} was in the SDP already`).toBe(false);
  expect(new Set(trickled).size).toBe(trickled.length);
  expect(signals.filter((s) => s['kind'] === 'description')).toHaveLength(1);
  expect(signals.filter((s) => s['kind'] === 'end')).toHaveLength(1);
  expect(signals.at(-1)?.['kind']).toBe('end');
  expect(inSdp.size + trickled.length).toBeGreaterThan(0);
}

describe('Node SDK ↔ aiortc through a real hub', () => {
  for (const sdkFirst of [true, false]) {
    for (const sdkPolite of [true, false]) {
      const title = `${sdkFirst ? 'SDK' : 'aiortc'} joins first, SDK ${sdkPolite ? 'polite (aiortc offers)' : 'impolite (SDK offers)'}`;
      it(title, async () => {
        const hub = await startTestHub();
        cleanup.push(() => hub.close());
        const py = new AiortcPeer(hub.url, 'interop', ['--channel', 'chat', '--send-file', String(FILE_BYTES)]);
        cleanup.push(() => py.close());
        const { peer } = await meet(hub.url, py, sdkFirst, sdkPolite);
        expect((await py.next('connection'))['polite']).toBe(!sdkPolite);

        const incoming = new Promise<IncomingTransfer>((resolve) =>
          peer.on('file', (t) => {
            t.accept(nodeFileSink(join(dir, `${title}.in`)));
            resolve(t);
          }),
        );
        const chat = peer.channel('chat');
        const got: ChannelMessage[] = [];
        chat.on('message', (m) => got.push(m));
        await until(() => chat.state === 'open', 20_000, 'the channel to open').catch((err: Error) => {
          throw new Error(`${err.message}\n${py.describe()}`);
        });

        // Named-channel messages both ways.
        chat.send('hello from the SDK');
        chat.send({ from: 'sdk', n: 2 });
        chat.send(new Uint8Array(AIORTC_MAX_MESSAGE_SIZE).fill(7));
        await until(() => got.length >= 3, 20_000, 'aiortc messages');
        expect(got.find((m) => m.kind === 'text')?.data).toBe(`hello from aiortc ${py.peerId}`);
        expect(got.find((m) => m.kind === 'json')?.data).toEqual({ from: 'aiortc', n: 1 });
        expect((got.find((m) => m.kind === 'binary')?.data as Uint8Array).byteLength).toBe(1024);
        await py.next('message', (e) => e['kind'] === 'text' && e['data'] === 'hello from the SDK');
        await py.next('message', (e) => e['kind'] === 'json' && (e['data'] as { from?: string }).from === 'sdk');
        const big = await py.next('message', (e) => e['kind'] === 'binary');
        expect((big['data'] as { size: number }).size).toBe(AIORTC_MAX_MESSAGE_SIZE);

        // Past the remote's a=max-message-size: a documented error, and the channel goes on.
        expect(() => chat.send(new Uint8Array(AIORTC_MAX_MESSAGE_SIZE + 1))).toThrow(expect.objectContaining({ code: 'message-too-large' }) as DataError);
        expect(() => chat.send('x'.repeat(AIORTC_MAX_MESSAGE_SIZE))).toThrow(expect.objectContaining({ code: 'message-too-large' }) as DataError);
        chat.send('still open');
        await py.next('message', (e) => e['data'] === 'still open');

        // A file each way, SHA-256 checked on both ends.
        const data = randomBytes(FILE_BYTES);
        const src = join(dir, `${title}.out`);
        writeFileSync(src, data);
        const expected = createHash('sha256').update(data).digest('hex');
        const sent = await peer.sendFile(await nodeFileSource(src)).finished();
        expect(sent.sha256).toBe(expected);
        const file = await py.next('file');
        expect(file).toMatchObject({ ok: true, size: FILE_BYTES, sha256: expected });

        const received = await (await incoming).finished();
        const fromPy = await py.next('file-sent');
        expect(fromPy['ok']).toBe(true);
        expect(received.sha256).toBe(fromPy['sha256']);
        expect(createHash('sha256').update(readFileSync(join(dir, `${title}.in`))).digest('hex')).toBe(fromPy['sha256']);

        await py.next('signal', (e) => e['kind'] === 'end');
        expectCleanTrickle(py.all('signal'));
        expect(py.all('error')).toEqual([]);
      }, 90_000);
    }
  }

  it('with STUN/TURN configured, answering aiortc: relay candidates trickle after the host ones, then one null', async () => {
    const secret = 'interop-secret';
    const turn = await startTurnServer({ listeningIp: '127.0.0.1', udpPort: 0, tcpPort: 0, secret, allowPeers: ['127.0.0.0/8'] });
    cleanup.push(() => turn.close());
    const urls = [`stun:127.0.0.1:${turn.ports.udp}`, `turn:127.0.0.1:${turn.ports.udp}?transport=udp`];
    const hub = await startTestHub({ secret, turn: { urls } });
    cleanup.push(() => hub.close());
    const token = async (identity: string): Promise<string> => mintToken(secret, { identity, room: 'interop' }, 600);
    const py = new AiortcPeer(hub.url, 'interop', ['--channel', 'chat', '--token', await token('aiortc')]);
    cleanup.push(() => py.close());
    const { peer } = await meet(hub.url, py, true, true, { token: await token('sdk') });
    const chat = peer.channel('chat');
    const got: ChannelMessage[] = [];
    chat.on('message', (m) => got.push(m));
    await until(() => got.length >= 3, 20_000, 'aiortc messages').catch((err: Error) => {
      throw new Error(`${err.message}\n${py.describe()}`);
    });
    await py.next('signal', (e) => e['kind'] === 'end', 30_000);
    const signals = py.all('signal');
    expect(signals[0]).toMatchObject({ kind: 'description', type: 'answer' });
    expectCleanTrickle(signals);
    const everything = [signals[0]!['sdp'] as string, ...signals.map((s) => String(s['candidate'] ?? ''))].join('\n');
    expect(everything).toMatch(/ typ relay/);
  }, 90_000);
});
