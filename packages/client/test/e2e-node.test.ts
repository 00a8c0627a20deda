/**
 * Two Node peers (node-datachannel) through a real hub with the public API: connect,
 * join, a data-channel echo, the connectivity report, and the connection surviving a
 * dropped hub link.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Session } from '@pinhole/node';
import { startTestHub } from '@pinhole/test-kit/hub';
import { until } from '@pinhole/test-kit/wait';
import type { TransportName } from '../src/signaling/link.js';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function session(url: string, transports?: TransportName[]): Promise<Session> {
  const s = await connect(url, { transports, reconnect: { initialDelayMs: 50, maxDelayMs: 500 } });
  cleanup.push(() => s.close());
  return s;
}

describe('Node ↔ Node through a real hub', () => {
  it('join → data channel echo → report (host/udp, signaling transport)', async () => {
    const hub = await startTestHub();
    cleanup.push(() => hub.close());
    const alice = await session(hub.url);
    const bob = await session(hub.url, ['poll']);
    const ra = await alice.join('e2e', { name: 'alice' });
    const bobSeen = ra.next('peer-joined', 5000);
    const rb = await bob.join('e2e', { name: 'bob' });
    const pa = await bobSeen;
    const pb = rb.peers.get(alice.peerId)!;
    expect(pb.meta).toEqual({ name: 'alice' });

    // Bob answers on the channel alice opens.
    pb.on('channel', (ch) => ch.on('message', (m) => ch.send(m.kind === 'json' ? { echo: m.data } : m.data)));
    const echo = pa.channel('echo');
    const replies: unknown[] = [];
    echo.on('message', (m) => replies.push(m.data));
    echo.send({ n: 1 });
    echo.send('text');
    echo.send(new Uint8Array([1, 2, 3]));
    await until(() => replies.length === 3, 20_000, 'echo replies');
    expect(replies[0]).toEqual({ echo: { n: 1 } });
    expect(replies[1]).toBe('text');
    expect(new Uint8Array(replies[2] as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3]));

    const report = await pa.report();
    expect(report.state).toBe('connected');
    expect(report.candidateType.local).toBe('host');
    expect(report.protocol).toBe('udp');
    expect(report.transport).toBe('hub/ws');
    expect((await pb.report()).transport).toBe('hub/poll');
  });

  it('a forced connection failure is repaired through the hub (restart → rebuild) and the channel works again', async () => {
    const hub = await startTestHub();
    cleanup.push(() => hub.close());
    const alice = await session(hub.url);
    const bob = await session(hub.url, ['sse']);
    const ra = await alice.join('heal');
    const seen = ra.next('peer-joined', 5000);
    const rb = await bob.join('heal');
    const pa = await seen;
    const pb = rb.peers.get(alice.peerId)!;
    pa.on('channel', (ch) => ch.on('message', (m) => ch.send(`echo ${String(m.data)}`)));
    const ch = pb.channel('heal');
    const replies: unknown[] = [];
    ch.on('message', (m) => replies.push(m.data));
    ch.send('one');
    await until(() => replies.length === 1, 20_000, 'first echo');

    const restarts: string[] = [];
    pa.connection!.on('restart', (e) => restarts.push(`alice ${e.mode} ${e.reason}`));
    pb.connection!.on('restart', (e) => restarts.push(`bob ${e.mode} ${e.reason}`));
    // Break the connection under alice, as a dead network would.
    pa.connection!.pc.close();
    await until(() => pa.connection!.connectionState === 'connected' && pb.connection!.connectionState === 'connected' && pa.connection!.gen > 0, 30_000, 'the connection to heal');
    expect(pb.connection!.gen).toBe(pa.connection!.gen);
    expect(restarts.length).toBeGreaterThan(0);
    ch.send('two');
    await until(() => replies.length === 2, 20_000, 'echo after the repair');
    expect(replies).toEqual(['echo one', 'echo two']);
  });
});
