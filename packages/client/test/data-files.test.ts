/**
 * File transfers between two real node-datachannel peers: 50 MB to disk with progress and
 * SHA-256, Blob in/out, reject, cancel from either side, and a connection rebuild in the
 * middle that must resume from the receiver's offset rather than restart.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { blobSink, FileTransfers, nodeFileSink, nodeFileSource } from '../src/data/node.js';
import type { FileSink, IncomingTransfer, OutgoingTransfer, TransferProgress } from '../src/data/node.js';
import { DEFAULT_HIGH_WATER_BYTES, DEFAULT_WINDOW_BYTES } from '../src/defaults.js';
import { connectPair } from './support/channel-host.js';
import type { HostPair } from './support/channel-host.js';

const SIZE = 50 * 1024 * 1024;
let dir: string;
let bigPath: string;
let bigDigest: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pinhole-files-'));
  bigPath = join(dir, 'big.bin');
  const data = randomBytes(SIZE);
  await writeFile(bigPath, data);
  bigDigest = createHash('sha256').update(data).digest('hex');
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

async function setup(options: ConstructorParameters<typeof FileTransfers>[1] = {}) {
  pair = await connectPair();
  const fa = new FileTransfers(pair.a, options);
  const fb = new FileTransfers(pair.b, options);
  registries.push(fa, fb);
  return { pair, fa, fb };
}

/** Wraps `sink` so the write that reaches `bytes` waits until `release()`. */
function stallAt<R>(sink: FileSink<R>, bytes: number) {
  let reached!: () => void;
  let release!: () => void;
  const reachedP = new Promise<void>((r) => (reached = r));
  const released = new Promise<void>((r) => (release = r));
  let stalled = false;
  const wrapped: FileSink<R> = {
    async write(chunks, offset) {
      await sink.write(chunks, offset);
      const end = offset + chunks.reduce((n, c) => n + c.byteLength, 0);
      if (!stalled && end >= bytes) {
        stalled = true;
        reached();
        await released;
      }
    },
    close: () => sink.close(),
    abort: () => sink.abort(),
  };
  return { sink: wrapped, reached: reachedP, release };
}

function recordProgress(t: OutgoingTransfer | IncomingTransfer): TransferProgress[] {
  const seen: TransferProgress[] = [];
  t.on('progress', (p) => seen.push(p));
  return seen;
}

function expectMonotonicToTotal(seen: TransferProgress[], total: number): void {
  expect(seen.length).toBeGreaterThan(1);
  for (let i = 1; i < seen.length; i++) expect(seen[i]!.bytes).toBeGreaterThanOrEqual(seen[i - 1]!.bytes);
  const last = seen.at(-1)!;
  expect(last).toMatchObject({ bytes: total, total, eta: 0 });
  expect(seen.some((p) => p.rate > 0 && Number.isFinite(p.eta))).toBe(true);
}

describe('file transfers', () => {
  it('sends 50 MB Node → Node to disk with progress on both sides and matching SHA-256', async () => {
    const { fa, fb } = await setup();
    const out = join(dir, 'out-50.bin');
    const offered = fb.next('offer', 10_000);
    const sending = fa.send(await nodeFileSource(bigPath), { meta: { note: 'hi' } });
    const sent = recordProgress(sending);
    const incoming = await offered;
    expect(incoming).toMatchObject({ id: sending.id, name: 'big.bin', size: SIZE, meta: { note: 'hi' }, state: 'offered' });
    const received = recordProgress(incoming);
    incoming.accept(nodeFileSink(out));

    const [a, b] = await Promise.all([sending.finished(), incoming.finished()]);
    expect(a).toEqual({ bytes: SIZE, sha256: bigDigest });
    expect(b).toEqual({ bytes: SIZE, sha256: bigDigest, result: out });
    expect(createHash('sha256').update(await readFile(out)).digest('hex')).toBe(bigDigest);
    expectMonotonicToTotal(sent, SIZE);
    expectMonotonicToTotal(received, SIZE);
    expect(sending.wireBytes).toBe(SIZE);
    expect(sending.state).toBe('done');
  });

  it('a Blob into a Blob sink (folded parts), and an empty file', async () => {
    const { fa, fb } = await setup();
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    fb.on('offer', (t) => t.accept(blobSink({ type: t.type, foldBytes: 1024 * 1024 })));
    const offered = fb.next('offer', 10_000);
    const t = fa.send(new Blob([bytes], { type: 'application/x-test' }), { name: 'x.bin' });
    const incoming = await offered;
    expect(incoming).toMatchObject({ name: 'x.bin', type: 'application/x-test', size: bytes.length });
    const [, result] = await Promise.all([t.finished(), incoming.finished()]);
    const blob = result.result as Blob;
    expect(blob.type).toBe('application/x-test');
    expect(Buffer.from(await blob.arrayBuffer()).equals(bytes)).toBe(true);

    const empty = fa.send(new Blob([]), { name: 'empty' });
    const done = await empty.finished();
    expect(done).toEqual({ bytes: 0, sha256: createHash('sha256').digest('hex') });
  });

  it('reject: the sender sees a rejected cancellation', async () => {
    const { fa, fb } = await setup();
    fb.on('offer', (t) => t.reject('not now'));
    const t = fa.send(new Blob([new Uint8Array(1000)]));
    const cancelled = t.next('cancelled', 10_000);
    await expect(t.finished()).rejects.toMatchObject({ code: 'rejected' });
    expect(await cancelled).toEqual({ by: 'remote', reason: 'not now', rejected: true });
  });

  it.each([['sender'], ['receiver']] as const)('cancel from the %s mid-transfer: both sides end, the partial file is removed', async (who) => {
    const { fa, fb } = await setup();
    const out = join(dir, `cancel-${who}.bin`);
    const offered = fb.next('offer', 10_000);
    const sending = fa.send(await nodeFileSource(bigPath));
    const incoming = await offered;
    incoming.accept(nodeFileSink(out));
    const canceller = who === 'sender' ? sending : incoming;
    const other = who === 'sender' ? incoming : sending;
    await new Promise<void>((resolve) => {
      const off = incoming.on('progress', (p) => p.bytes > SIZE / 5 && (off(), resolve()));
    });
    const otherCancelled = other.next('cancelled', 10_000);
    expect(canceller.cancel('changed my mind')).toBe(true);
    expect(canceller.state).toBe('cancelled');
    expect(await otherCancelled).toEqual({ by: 'remote', reason: 'changed my mind', rejected: false });
    await expect(other.finished()).rejects.toMatchObject({ code: 'cancelled' });
    await expect(canceller.finished()).rejects.toMatchObject({ code: 'cancelled' });
    await expect.poll(() => stat(out).then(() => 'exists', () => 'gone'), { timeout: 5000 }).toBe('gone');
  });

  it("the sender's cancel once every byte is sent is refused (false): the receiver's verdict decides and both sides end done", async () => {
    const { fa, fb } = await setup();
    const data = randomBytes(64 * 1024);
    const offered = fb.next('offer', 10_000);
    const sending = fa.send(new Blob([data]));
    const incoming = await offered;
    // The receiver holds its last write, so the sender sits in 'finishing' until release().
    const stall = stallAt(blobSink(), data.byteLength);
    incoming.accept(stall.sink);
    await stall.reached;
    await expect.poll(() => sending.state, { timeout: 5000 }).toBe('finishing');
    expect(sending.cancel('too late')).toBe(false);
    expect(sending.state).toBe('finishing');
    stall.release();
    const [sent, received] = await Promise.all([sending.finished(), incoming.finished()]);
    expect(sent.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(received.sha256).toBe(sent.sha256);
    expect(sending.cancel()).toBe(false); // ended: still a no-op
  });

  it('a rebuild at ~40 % resumes from the receiver offset (not from 0) and the digest matches', async () => {
    const { pair, fa, fb } = await setup();
    const out = join(dir, 'resumed.bin');
    const offered = fb.next('offer', 10_000);
    const sending = fa.send(await nodeFileSource(bigPath));
    const incoming = await offered;
    const received = recordProgress(incoming);
    // The sink stalls once 40 % is written, so the transfer cannot finish before the
    // rebuild however fast or slow the machine is; it goes on once the rebuild is under way.
    const stall = stallAt(nodeFileSink(out), SIZE * 0.4);
    incoming.accept(stall.sink);
    await stall.reached;
    const resumedA = sending.next('resumed', 20_000);
    const resumedB = incoming.next('resumed', 20_000);
    const interrupted = sending.next('interrupted', 10_000);
    const rebuilt = pair.rebuild();
    await interrupted;
    stall.release();
    await rebuilt;
    const { offset } = await resumedA;
    expect(await resumedB).toEqual({ offset });
    expect(offset).toBeGreaterThanOrEqual(SIZE * 0.4);

    const [a, b] = await Promise.all([sending.finished(), incoming.finished()]);
    expect(a.sha256).toBe(bigDigest);
    expect(b.sha256).toBe(bigDigest);
    expect(createHash('sha256').update(await readFile(out)).digest('hex')).toBe(bigDigest);
    expect(sending.resumes).toBe(1);
    // Only what was in flight when the connection died went twice: at most one window
    // plus the channel's buffer, far from the 20 MB a restart would resend.
    expect(sending.wireBytes - SIZE).toBeLessThanOrEqual(DEFAULT_WINDOW_BYTES + DEFAULT_HIGH_WATER_BYTES);
    expectMonotonicToTotal(received, SIZE);
  });

  it('a transfer offered while the connection is rebuilt is offered again and completes', async () => {
    const { pair, fa, fb } = await setup();
    const bytes = randomBytes(256 * 1024);
    const offered = fb.next('offer', 10_000);
    const t = fa.send(new Blob([bytes]));
    const incoming = await offered;
    await pair.rebuild(); // before accept: the accept goes out on the new channel
    incoming.accept(blobSink());
    const got = await incoming.finished();
    expect(Buffer.from(await (got.result as Blob).arrayBuffer()).equals(bytes)).toBe(true);
    expect((await t.finished()).sha256).toBe(got.sha256);
  });
});
