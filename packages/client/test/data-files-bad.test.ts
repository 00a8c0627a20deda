/**
 * Bad input on file transfers: a hand-driven raw channel plays a misbehaving sender or
 * receiver against a real FileTransfers. Each case must end that transfer with an error
 * (and tell the peer), never throw, and leave a concurrent transfer unaffected.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { blobSink, FileTransfers, nodeFileSink } from '../src/data/node.js';
import type { DataError, IncomingTransfer } from '../src/data/node.js';
import { connectPair } from './support/channel-host.js';
import type { HostPair } from './support/channel-host.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pinhole-bad-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let pair: HostPair | undefined;
const registries: FileTransfers[] = [];
afterEach(async () => {
  for (const r of registries.splice(0)) r.close();
  await pair?.close();
  pair = undefined;
});

/** A raw channel with everything it received as parsed JSON (text) or byte counts (binary). */
async function raw(dc: RTCDataChannel) {
  dc.binaryType = 'arraybuffer';
  const got: unknown[] = [];
  dc.addEventListener('message', (e) => {
    const data = (e as MessageEvent).data as unknown;
    got.push(typeof data === 'string' ? JSON.parse(data) : (data as ArrayBuffer).byteLength);
  });
  if (dc.readyState !== 'open') await new Promise((r) => dc.addEventListener('open', r));
  const json = (msg: object) => dc.send(JSON.stringify(msg));
  return { dc, got, json };
}

const SHA_ZERO = '0'.repeat(64);
const offer = (id: string, size: number) => ({ t: 'offer', v: 1, id, name: 'evil', size, chunk: 16 });

/** B receives with a real FileTransfers; A is a raw fake sender on `pinhole-file:<id>`. */
async function fakeSender(id: string) {
  pair = await connectPair();
  const fb = new FileTransfers(pair.b);
  registries.push(fb);
  const sender = await raw(pair.a.createDataChannel(`pinhole-file:${id}`));
  return { pair, fb, sender };
}

/** A concurrent, well-behaved 2 MB transfer A → B that must still complete. */
function bystander(pair: HostPair, fb: FileTransfers) {
  const fa = new FileTransfers(pair.a);
  registries.push(fa);
  const bytes = randomBytes(2 * 1024 * 1024);
  const t = fa.send(new Blob([bytes]), { name: 'bystander' });
  fb.on('offer', (inc) => inc.name === 'bystander' && inc.accept(blobSink()));
  return async () => {
    const r = await t.finished();
    expect(r.bytes).toBe(bytes.length);
  };
}

async function offered(fb: FileTransfers, id: string): Promise<IncomingTransfer> {
  const existing = fb.get(id);
  if (existing) return existing as IncomingTransfer;
  for (;;) {
    const t = await fb.next('offer', 10_000);
    if (t.id === id) return t;
  }
}

describe('file transfers: bad input from a sender', () => {
  it.each([
    {
      name: 'data past the announced size',
      code: 'bad-chunk',
      play: (s: Awaited<ReturnType<typeof raw>>) => {
        s.dc.send(new Uint8Array(8));
        s.dc.send(new Uint8Array(8)); // 16 > 10
      },
    },
    { name: 'a control message that is not JSON', code: 'bad-message', play: (s: Awaited<ReturnType<typeof raw>>) => s.dc.send('{nope') },
    { name: 'an unknown control message', code: 'bad-message', play: (s: Awaited<ReturnType<typeof raw>>) => s.json({ t: 'launch' }) },
    { name: 'end before all bytes', code: 'bad-chunk', play: (s: Awaited<ReturnType<typeof raw>>) => s.json({ t: 'end', size: 10, sha256: SHA_ZERO }) },
    {
      name: 'a digest that does not match',
      code: 'digest-mismatch',
      play: (s: Awaited<ReturnType<typeof raw>>) => {
        s.dc.send(new Uint8Array(10));
        s.json({ t: 'end', size: 10, sha256: SHA_ZERO });
      },
    },
  ])('$name → error $code on that transfer only', async ({ code, play }) => {
    const id = `bad${code.replace(/\W/g, '')}${Math.random().toString(36).slice(2, 8)}`;
    const { pair, fb, sender } = await fakeSender(id);
    const other = bystander(pair, fb);
    sender.json(offer(id, 10));
    const t = await offered(fb, id);
    const out = join(dir, `${id}.bin`);
    t.accept(nodeFileSink(out));
    await expect.poll(() => sender.got).toContainEqual({ t: 'accept', offset: 0 });
    const failed = t.next('error', 10_000);
    play(sender);
    const err = (await failed) as DataError;
    expect(err).toMatchObject({ name: 'DataError', code });
    expect(t.state).toBe('failed');
    await expect(t.finished()).rejects.toBe(err);
    // the peer is told, and the partial file is gone
    await expect.poll(() => sender.got.find((m) => (m as { t?: string }).t === 'error')).toMatchObject({ t: 'error', code });
    await expect.poll(() => stat(out).then(() => 'exists', () => 'gone')).toBe('gone');
    await other();
  });

  it('data before accept → bad-chunk', async () => {
    const id = 'early' + Math.random().toString(36).slice(2, 8);
    const { fb, sender } = await fakeSender(id);
    sender.json(offer(id, 10));
    const t = await offered(fb, id);
    const failed = t.next('error', 10_000);
    sender.dc.send(new Uint8Array(4));
    expect(await failed).toMatchObject({ code: 'bad-chunk' });
  });

  it.each([
    { name: 'not JSON', first: 'garbage', code: 'bad-message' },
    { name: 'not an offer', first: JSON.stringify({ t: 'ack', offset: 1 }), code: 'bad-message' },
    { name: 'an offer for another id', first: JSON.stringify(offer('someoneelse', 1)), code: 'bad-message' },
    { name: 'an offer with a negative size', first: JSON.stringify({ ...offer('ID', 1), size: -1 }), code: 'bad-message' },
  ])('a first message that is $name → registry error, the channel is told', async ({ first, code }) => {
    const id = 'ID';
    const { fb, sender } = await fakeSender(id);
    const error = fb.next('error', 10_000);
    sender.dc.send(first);
    expect(await error).toMatchObject({ code });
    await expect.poll(() => sender.got).toContainEqual(expect.objectContaining({ t: 'error', code }));
  });

  it('an offer above maxFileBytes is rejected as too-large', async () => {
    pair = await connectPair();
    const fb = new FileTransfers(pair.b, { maxFileBytes: 1000 });
    registries.push(fb);
    const sender = await raw(pair.a.createDataChannel('pinhole-file:big'));
    const error = fb.next('error', 10_000);
    sender.json(offer('big', 1001));
    expect(await error).toMatchObject({ code: 'too-large' });
    await expect.poll(() => sender.got).toContainEqual({ t: 'reject', reason: 'too-large' });
  });
});

describe('file transfers: bad input from a receiver', () => {
  it.each([
    { name: 'accept past what was sent', reply: { t: 'accept', offset: 5000 }, code: 'bad-message' },
    { name: 'an ack before accept', reply: { t: 'ack', offset: 1 }, code: 'bad-message' },
    { name: 'done before end', reply: { t: 'done', sha256: SHA_ZERO }, code: 'bad-message' },
    { name: 'an offer (wrong direction)', reply: offer('x', 1), code: 'bad-message' },
  ])('$name → error $code', async ({ reply, code }) => {
    pair = await connectPair();
    const fa = new FileTransfers(pair.a);
    registries.push(fa);
    const channel = pair.b.next('datachannel', 10_000);
    const t = fa.send(new Blob([new Uint8Array(4096)]));
    const receiver = await raw(await channel);
    await expect.poll(() => receiver.got).toContainEqual(expect.objectContaining({ t: 'offer', id: t.id, size: 4096 }));
    const failed = t.next('error', 10_000);
    receiver.json(reply);
    expect(await failed).toMatchObject({ code });
    await expect(t.finished()).rejects.toMatchObject({ code });
    await expect.poll(() => receiver.got).toContainEqual(expect.objectContaining({ t: 'error', code }));
  });

  it('a remote error ends the transfer with remote-error and is not answered', async () => {
    pair = await connectPair();
    const fa = new FileTransfers(pair.a);
    registries.push(fa);
    const channel = pair.b.next('datachannel', 10_000);
    const t = fa.send(new Blob([new Uint8Array(10)]));
    const receiver = await raw(await channel);
    await expect.poll(() => receiver.got.length).toBe(1);
    receiver.json({ t: 'error', code: 'io', message: 'disk full' });
    expect(await t.next('error', 10_000)).toMatchObject({ code: 'remote-error', message: expect.stringContaining('disk full') });
    expect(receiver.got).toHaveLength(1);
  });
});

describe('file transfers: offers the receiver would refuse fail at send', () => {
  it.each([
    { name: 'a name over 1024 characters', info: { name: 'n'.repeat(1025) }, message: /bad name/ },
    { name: 'meta that makes the offer exceed MAX_CONTROL_BYTES', info: { meta: { blob: 'x'.repeat(70_000) } }, message: /exceeds MAX_CONTROL_BYTES/ },
    { name: 'meta that is not JSON', info: { meta: { n: 1n } }, message: /not JSON-serialisable/ },
  ])('$name → DataError bad-value, nothing sent, the registry still works', async ({ info, message }) => {
    pair = await connectPair();
    const fa = new FileTransfers(pair.a);
    const fb = new FileTransfers(pair.b);
    registries.push(fa, fb);
    let offered = 0;
    fb.on('offer', (t) => {
      offered += 1;
      t.accept(blobSink());
    });
    expect(() => fa.send(new Blob([new Uint8Array(16)]), info)).toThrow(expect.objectContaining({ name: 'DataError', code: 'bad-value', message: expect.stringMatching(message) }));
    const ok = await fa.send(new Blob([new Uint8Array(16)]), { name: 'fine' }).finished();
    expect(ok.bytes).toBe(16);
    expect(offered).toBe(1);
  });
});
