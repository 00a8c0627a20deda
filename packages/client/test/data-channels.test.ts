import { afterEach, describe, expect, it } from 'vitest';
import { Channels } from '../src/data/channels.js';
import type { NamedChannel } from '../src/data/channel.js';
import type { ChannelMessage } from '../src/data/framing.js';
import { DataError } from '../src/data/errors.js';
import { connectPair } from './support/channel-host.js';
import type { HostPair } from './support/channel-host.js';

let pair: HostPair | undefined;
const registries: Channels[] = [];

afterEach(async () => {
  for (const r of registries.splice(0)) r.close();
  await pair?.close();
  pair = undefined;
});

async function setup(): Promise<{ pair: HostPair; ca: Channels; cb: Channels }> {
  pair = await connectPair();
  const ca = new Channels(pair.a);
  const cb = new Channels(pair.b);
  registries.push(ca, cb);
  return { pair, ca, cb };
}

/** Collects 'message' events; `take(n)` resolves with the first n. */
function collect(ch: NamedChannel) {
  const got: ChannelMessage[] = [];
  let wake: (() => void) | undefined;
  ch.on('message', (m) => {
    got.push(m);
    wake?.();
  });
  return {
    got,
    async take(n: number, timeoutMs = 10_000): Promise<ChannelMessage[]> {
      const deadline = Date.now() + timeoutMs;
      while (got.length < n) {
        if (Date.now() > deadline) throw new Error(`only ${got.length}/${n} messages arrived`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
      return got.slice(0, n);
    },
  };
}

describe('named channels', () => {
  it('round-trips JSON, text and binary, each arriving as the kind it was sent', async () => {
    const { ca, cb } = await setup();
    const incoming = cb.next('channel', 10_000);
    const chat = ca.open('chat');
    await chat.next('open', 10_000);
    const remote = await incoming;
    expect(remote.name).toBe('chat');
    expect(remote.reliable).toBe(true);
    const rx = collect(remote);

    chat.send({ hello: ['world', 1, null] });
    chat.send('{"looks":"like json"}');
    chat.send('quoted', 'json'); // a string sent as a JSON value
    chat.send(new Uint8Array([1, 2, 3]));
    chat.send(new Uint8Array([9, 8, 7, 6]).subarray(1, 3)); // a view: only its bytes
    chat.send(new Uint16Array([0x0102]).buffer);
    chat.send('');
    chat.send('héllo 🌍');

    const got = await rx.take(8);
    expect(got).toEqual([
      { kind: 'json', data: { hello: ['world', 1, null] } },
      { kind: 'text', data: '{"looks":"like json"}' },
      { kind: 'json', data: 'quoted' },
      { kind: 'binary', data: new Uint8Array([1, 2, 3]) },
      { kind: 'binary', data: new Uint8Array([8, 7]) },
      { kind: 'binary', data: new Uint8Array(new Uint16Array([0x0102]).buffer) },
      { kind: 'text', data: '' },
      { kind: 'text', data: 'héllo 🌍' },
    ]);

    // and the other way
    const back = collect(chat);
    remote.send({ ok: true });
    expect(await back.take(1)).toEqual([{ kind: 'json', data: { ok: true } }]);
  });

  it('rejects what it cannot send', async () => {
    const { ca } = await setup();
    const ch = ca.open('x');
    expect(() => ch.send(new Uint8Array(256 * 1024 + 1))).toThrow(expect.objectContaining({ code: 'message-too-large' }));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => ch.send(cyclic as never)).toThrow(DataError);
    expect(() => ch.send(undefined as never)).toThrow(expect.objectContaining({ code: 'bad-value' }));
  });

  it('an unreliable channel is unordered with no retransmits, and carries messages', async () => {
    const { ca, cb } = await setup();
    const incoming = cb.next('channel', 10_000);
    const ch = ca.open('cursor', { reliable: false });
    await ch.next('open', 10_000);
    const remote = await incoming;
    expect(remote.reliable).toBe(false);
    const dc = pair!.a.created.at(-1)!;
    expect(dc.ordered).toBe(false);
    expect(dc.maxRetransmits).toBe(0);
    const rx = collect(remote);
    for (let i = 0; i < 20; i++) ch.send({ i });
    const got = await rx.take(20); // loopback loses nothing
    expect(got.map((m) => (m.data as { i: number }).i).sort((x, y) => x - y)).toEqual([...Array(20).keys()]);
  });

  it('survives a rebuild: queued reliable sends flush on reopen, both directions work after', async () => {
    const { pair, ca, cb } = await setup();
    const incoming = cb.next('channel', 10_000);
    const ch = ca.open('chat');
    await ch.next('open', 10_000);
    const remote = await incoming;
    const rx = collect(remote);
    const tx = collect(ch);
    ch.send('before');
    await rx.take(1);

    const downA = ch.next('down', 10_000);
    const downB = remote.next('down', 10_000);
    const reopenA = ch.next('open', 20_000);
    const reopenB = remote.next('open', 20_000);
    const rebuilt = pair.rebuild();
    await Promise.all([downA, downB]);
    expect(ch.state).toBe('down');
    ch.send('while down 1'); // queued
    ch.send({ n: 2 });
    remote.send('from b while down');
    await rebuilt;
    expect(await reopenA).toEqual({ reopened: true });
    expect(await reopenB).toEqual({ reopened: true });
    ch.send('after');

    expect((await rx.take(4)).map((m) => m.data)).toEqual(['before', 'while down 1', { n: 2 }, 'after']);
    expect((await tx.take(1)).map((m) => m.data)).toEqual(['from b while down']);
    // the receiving side kept the same object; no second 'channel' event
    expect(cb.get('chat')).toBe(remote);
  });

  it('send() signals backpressure and drain() waits for bufferedAmountLowThreshold', async () => {
    const { ca, cb } = await setup();
    const incoming = cb.next('channel', 10_000);
    const ch = ca.open('bulk', { highWaterBytes: 256 * 1024, lowWaterBytes: 64 * 1024 });
    await ch.next('open', 10_000);
    const remote = await incoming;
    let received = 0;
    remote.on('message', (m) => (received += (m.data as Uint8Array).byteLength));
    const chunk = new Uint8Array(64 * 1024);
    let sawFalse = false;
    for (let i = 0; i < 160; i++) {
      if (!ch.send(chunk)) {
        sawFalse = true;
        await ch.drain();
        expect(ch.bufferedAmount).toBeLessThanOrEqual(64 * 1024);
      }
    }
    expect(sawFalse).toBe(true);
    await expect.poll(() => received, { timeout: 10_000 }).toBe(160 * 64 * 1024);
  });

  it('close() on one side closes the other (not a connection loss) and ends drain waiters', async () => {
    const { ca, cb } = await setup();
    const incoming = cb.next('channel', 10_000);
    const ch = ca.open('c');
    await ch.next('open', 10_000);
    const remote = await incoming;
    const closed = remote.next('close', 10_000);
    ch.close();
    expect(await closed).toEqual({ remote: true });
    expect(remote.state).toBe('closed');
    expect(() => ch.send('x')).toThrow(expect.objectContaining({ code: 'closed' }));
    expect(ca.get('c')).toBeUndefined();
    await expect(ch.drain()).rejects.toMatchObject({ code: 'closed' });
  });

  it('reports bad frames as errors and keeps working', async () => {
    const { pair, cb } = await setup();
    const incoming = cb.next('channel', 10_000);
    const raw = pair.a.createDataChannel('pinhole-channel:raw');
    await new Promise((r) => raw.addEventListener('open', r));
    const remote = await incoming;
    const errors: DataError[] = [];
    remote.on('error', (e) => errors.push(e));
    const rx = collect(remote);
    raw.send('x?'); // unknown tag
    raw.send('j{not json');
    raw.send('tstill fine');
    await rx.take(1);
    expect(errors.map((e) => e.code)).toEqual(['bad-message', 'bad-message']);
    expect(rx.got).toEqual([{ kind: 'text', data: 'still fine' }]);
  });

  it('one registry per host', async () => {
    const { pair } = await setup();
    expect(() => new Channels(pair.a)).toThrow(expect.objectContaining({ code: 'already-attached' }));
  });
});
