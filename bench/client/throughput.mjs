// Data-channel throughput between two loopback node-datachannel peers in one process:
//   (a) bare RTCDataChannel, 64 KiB chunks, bufferedAmountLowThreshold backpressure
//   (b) a Pinhole named channel (binary sends, send()/drain() backpressure)
//   (c) a Pinhole file transfer Blob → Blob sink (memory)
//   (d) a Pinhole file transfer file → file on tmpfs (/dev/shm, else the OS temp dir)
// Rows run interleaved (a b c d, a b c d, …) so drift in machine load hits every row alike;
// each row reports the median of its runs and its ratio to (a).
//
//   node bench/client/throughput.mjs [--mb 128] [--runs 5] [--chunk 65536] [--only a,c]
//
// The SDK is TypeScript: its data layer (and the test host) are bundled with esbuild into
// bench/.tmp/client/ first, so no build of the package is needed.
import { build } from 'esbuild';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { timedSend } from '../lib/datachannel.mjs';

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '128' },
    runs: { type: 'string', default: '5' },
    chunk: { type: 'string', default: String(64 * 1024) },
    only: { type: 'string', default: 'a,b,c,d' },
  },
});
const TOTAL = Number(args.mb) * 1024 * 1024;
const RUNS = Number(args.runs);
const CHUNK = Number(args.chunk);
const HIGH = 4 * 1024 * 1024; // the SDK's DEFAULT_HIGH_WATER_BYTES / DEFAULT_LOW_WATER_BYTES
const LOW = 1024 * 1024;

const root = new URL('../../', import.meta.url).pathname;
const out = join(root, 'bench/.tmp/client');
await mkdir(out, { recursive: true });
await build({
  stdin: {
    contents: `export * from './packages/client/src/data/node.ts';
               export { connectPair } from './packages/client/test/support/channel-host.ts';`,
    resolveDir: root,
    loader: 'ts',
  },
  outfile: join(out, 'data.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['node-datachannel', 'node-datachannel/*'],
  logLevel: 'warning',
});
const sdk = await import(join(out, 'data.mjs'));

const payload = randomBytes(TOTAL);
const digest = createHash('sha256').update(payload).digest('hex');
const shm = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const srcPath = join(shm, `pinhole-bench-${process.pid}.src`);
const dstPath = join(shm, `pinhole-bench-${process.pid}.dst`);
await writeFile(srcPath, payload);

const rows = {
  a: ['bare node-datachannel', bare],
  b: ['named channel', named],
  c: ['file transfer Blob→Blob', () => file(false)],
  d: [`file transfer file→file (${shm})`, () => file(true)],
};
const chosen = args.only.split(',').filter((k) => rows[k]);

async function bare() {
  const pair = await sdk.connectPair();
  try {
    const tx = pair.a.createDataChannel('bench');
    const rx = await new Promise((r) => pair.b.once('datachannel', r));
    if (tx.readyState !== 'open') await new Promise((r) => tx.addEventListener('open', r));
    return await timedSend(tx, rx, payload, { chunk: CHUNK, high: HIGH, low: LOW });
  } finally {
    await pair.close();
  }
}

async function named() {
  const pair = await sdk.connectPair();
  const ca = new sdk.Channels(pair.a);
  const cb = new sdk.Channels(pair.b);
  try {
    const incoming = cb.next('channel', 10_000);
    const tx = ca.open('bench');
    await tx.next('open', 10_000);
    const rx = await incoming;
    let got = 0;
    const done = new Promise((resolve) => rx.on('message', (m) => (got += m.data.byteLength) >= TOTAL && resolve()));
    const t0 = performance.now();
    for (let at = 0; at < TOTAL; at += CHUNK) {
      if (!tx.send(payload.subarray(at, at + CHUNK))) await tx.drain();
    }
    await done;
    return performance.now() - t0;
  } finally {
    ca.close();
    cb.close();
    await pair.close();
  }
}

async function file(onDisk) {
  const pair = await sdk.connectPair();
  const fa = new sdk.FileTransfers(pair.a);
  const fb = new sdk.FileTransfers(pair.b);
  try {
    fb.on('offer', (t) => t.accept(onDisk ? sdk.nodeFileSink(dstPath) : sdk.blobSink()));
    const source = onDisk ? await sdk.nodeFileSource(srcPath) : new Blob([payload]);
    const t0 = performance.now();
    const offered = fb.next('offer', 10_000);
    const t = fa.send(source);
    const incoming = await offered;
    const [, received] = await Promise.all([t.finished(), incoming.finished()]);
    const ms = performance.now() - t0;
    if (received.sha256 !== digest) throw new Error('digest mismatch');
    return ms;
  } finally {
    fa.close();
    fb.close();
    await pair.close();
    await rm(dstPath, { force: true });
  }
}

const results = Object.fromEntries(chosen.map((k) => [k, []]));
console.log(`${args.mb} MiB per run, ${CHUNK}-byte chunks, ${RUNS} interleaved runs per row`);
for (let run = 0; run < RUNS; run++) {
  for (const k of chosen) {
    const ms = await rows[k][1]();
    const mbps = TOTAL / 1e6 / (ms / 1000);
    results[k].push(mbps);
    process.stdout.write(`  run ${run + 1} ${k}: ${mbps.toFixed(1)} MB/s\n`);
  }
}
await rm(srcPath, { force: true });

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const base = results.a ? median(results.a) : undefined;
console.log('\nrow                                            median MB/s   vs (a)');
for (const k of chosen) {
  const m = median(results[k]);
  const ratio = base ? `${((m / base) * 100).toFixed(0)} %` : '-';
  console.log(`(${k}) ${rows[k][0].padEnd(42)} ${m.toFixed(1).padStart(8)}   ${ratio.padStart(6)}`);
}
process.exit(0);
