/**
 * A 50 MB file Node → Node through a real hub with the public API: progress on both
 * sides, matching SHA-256 (checked here against node:crypto too), surviving a dropped hub
 * connection at ~30 % and a dead peer connection at ~60 % (repaired through the hub,
 * resumed from the receiver's last acknowledged offset).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { connect, nodeFileSink, nodeFileSource, type Session, type TransferProgress } from '@pinhole/node';
import { startTestHub } from '@pinhole/test-kit/hub';

const dir = mkdtempSync(join(tmpdir(), 'pinhole-e2e-files-'));
const cleanup: (() => Promise<unknown> | unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
afterAll(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const SIZE = 50 * 1024 * 1024;

it('50 MB through the hub: progress, SHA-256, a hub drop and a connection failure mid-way', async () => {
  const src = join(dir, 'src.bin');
  const data = randomBytes(SIZE);
  writeFileSync(src, data);
  const expected = createHash('sha256').update(data).digest('hex');

  const hub = await startTestHub();
  cleanup.push(() => hub.close());
  const open = async (): Promise<Session> => {
    const s = await connect(hub.url, { reconnect: { initialDelayMs: 50, maxDelayMs: 500 } });
    cleanup.push(() => s.close());
    return s;
  };
  const alice = await open();
  const bob = await open();
  const ra = await alice.join('files');
  const seen = ra.next('peer-joined', 5000);
  const rb = await bob.join('files');
  const toBob = await seen;
  const fromAlice = rb.peers.get(alice.peerId)!;

  const received: TransferProgress[] = [];
  const sent: TransferProgress[] = [];
  const incoming = new Promise<import('@pinhole/node').IncomingTransfer>((resolve) =>
    fromAlice.on('file', (t) => {
      t.on('progress', (p) => received.push(p));
      t.accept(nodeFileSink(join(dir, 'out.bin')));
      resolve(t);
    }),
  );
  const sending = toBob.sendFile(await nodeFileSource(src));
  sending.on('progress', (p) => sent.push(p));
  const t = await incoming;

  let hubDropped = false;
  let broke = false;
  const resumed: number[] = [];
  sending.on('resumed', ({ offset }) => resumed.push(offset));
  t.on('progress', (p) => {
    if (!hubDropped && p.bytes > SIZE * 0.3) {
      hubDropped = true;
      alice.signaler.connection.drop(); // signaling only: the data channel carries on
      bob.signaler.connection.drop();
    } else if (!broke && p.bytes > SIZE * 0.6) {
      broke = true;
      toBob.connection!.pc.close(); // the media path dies: repaired through the (resumed) hub session
    }
  });

  const [a, b] = await Promise.all([sending.finished(), t.finished()]);
  expect(hubDropped && broke).toBe(true);
  expect(a.sha256).toBe(expected);
  expect(b.sha256).toBe(expected);
  expect(createHash('sha256').update(readFileSync(join(dir, 'out.bin'))).digest('hex')).toBe(expected);
  // Resumed once, from where the receiver was (well past 50 %), not from 0.
  expect(resumed.length).toBe(1);
  expect(resumed[0]).toBeGreaterThan(SIZE * 0.5);
  // Progress: monotonic on both sides, ending at the total, with a rate and an ETA along the way.
  for (const list of [sent, received]) {
    expect(list.length).toBeGreaterThan(5);
    for (let i = 1; i < list.length; i++) expect(list[i]!.bytes).toBeGreaterThanOrEqual(list[i - 1]!.bytes);
    expect(list.at(-1)!.bytes).toBe(SIZE);
    expect(list.some((p) => p.rate > 0 && Number.isFinite(p.eta))).toBe(true);
  }
}, 120_000);
