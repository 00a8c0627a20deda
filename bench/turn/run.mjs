// Relay throughput at ≤ 1 % loss: Pinhole TURN vs coturn vs a bare Node dgram forwarder, driven
// by the same load generator (Allocate + ChannelBind, then ChannelData to a UDP sink).
//   node bench/turn/run.mjs            (builds packages/turn/dist first)
// Env: TRIAL_MS (default 2000), WORKERS (load threads, default 1), SIZES (default "200,1200"),
//      REPEATS (default 3; targets interleaved, median reported), VERBOSE=1 (every trial),
//      TARGETS (subset of pinhole,coturn,forwarder,direct).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { buildTurn, importTurn } from './import-turn.mjs';
import { startCoturn, startForwarder, startPinhole } from './targets.mjs';

const SECRET = 'bench-secret';
const REALM = 'pinhole';
const TRIAL_MS = Number(process.env.TRIAL_MS ?? 2000);
const WORKERS = Number(process.env.WORKERS ?? 1);
const SIZES = (process.env.SIZES ?? '200,1200').split(',').map(Number);
const MAX_LOSS = 0.01;
const START_RATE = 5000;
const REFINE_STEPS = 5;
const SETTLE_MS = 1000;
const CONFIRM_STEPS = 6;

const REPEATS = Number(process.env.REPEATS ?? 3);

buildTurn();
const { turn, via } = await importTurn();

async function startWorkers(mode, port, payloadSize) {
  const workers = [];
  for (let i = 0; i < WORKERS; i++) {
    const c = turn.turnCredentials(SECRET, `bench${i}`, 3600);
    const worker = new Worker(new URL('./load-worker.mjs', import.meta.url), {
      workerData: { mode, port, username: c.username, password: c.credential, payloadSize },
    });
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    workers.push(worker);
  }
  return workers;
}

async function trial(workers, rate) {
  // Let queues from an overloaded previous trial drain before measuring again.
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const results = await Promise.all(
    workers.map(
      (w) =>
        new Promise((resolve) => {
          w.once('message', (m) => resolve(m.result));
          w.postMessage({ cmd: 'trial', rate: rate / workers.length, durationMs: TRIAL_MS });
        }),
    ),
  );
  const sent = results.reduce((n, r) => n + r.sent, 0);
  const received = results.reduce((n, r) => n + r.received, 0);
  const seconds = Math.max(...results.map((r) => r.elapsedMs)) / 1000;
  if (process.env.VERBOSE) console.log(`  trial ${rate}/s: sent ${sent} received ${received} in ${seconds.toFixed(2)} s`);
  return { rate, sent, received, loss: sent ? 1 - received / sent : 1, sentRate: sent / seconds, recvRate: received / seconds };
}

/** Double the rate until loss > 1 % (or the generator saturates), then bisect. */
async function search(workers) {
  let good;
  let bad;
  let generatorBound = false;
  for (let rate = START_RATE; bad === undefined; rate *= 2) {
    let t = await trial(workers, rate);
    // A hiccup of the shared machine must not end the search at the very first, trivial rate.
    if (t.loss > MAX_LOSS && rate === START_RATE) t = await trial(workers, rate);
    if (t.loss > MAX_LOSS) bad = rate;
    else if (t.sentRate < 0.9 * rate) {
      // No loss, but the generator could not send any faster: that is the harness's ceiling.
      generatorBound = true;
      if (!good || t.recvRate > good.recvRate) good = t;
      break;
    } else good = t;
  }
  if (bad !== undefined && good) {
    let low = good.rate;
    let high = bad;
    for (let i = 0; i < REFINE_STEPS; i++) {
      const mid = Math.round((low + high) / 2);
      const t = await trial(workers, mid);
      if (t.loss <= MAX_LOSS && t.sentRate >= 0.9 * mid) {
        low = mid;
        if (t.recvRate > good.recvRate) good = t;
      } else high = mid;
    }
  }
  // Confirm: the best rate must pass again; otherwise step down 15 % (noise on a shared machine).
  for (let i = 0; good && i < CONFIRM_STEPS; i++) {
    const t = await trial(workers, good.rate);
    if (t.loss <= MAX_LOSS && (generatorBound || t.sentRate >= 0.9 * good.rate)) {
      good = t.recvRate < good.recvRate ? t : good;
      break;
    }
    good = i === CONFIRM_STEPS - 1 ? undefined : { ...good, rate: Math.round(good.rate * 0.85) };
  }
  return { best: good, generatorBound };
}

const allTargets = [
  { name: 'Pinhole TURN', mode: 'turn', start: () => startPinhole(SECRET) },
  { name: 'coturn turnserver', mode: 'turn', start: () => startCoturn(SECRET, REALM) },
  { name: 'bare Node dgram forwarder', mode: 'raw', start: () => startForwarder() },
  { name: 'no relay (generator → sink)', mode: 'direct', start: async () => ({ port: 0, stop: async () => undefined }) },
];
// TARGETS=pinhole,coturn,forwarder,direct picks a subset (default: all four).
const KEYS = ['pinhole', 'coturn', 'forwarder', 'direct'];
const wanted = (process.env.TARGETS ?? KEYS.join(',')).split(',');
const targets = allTargets.filter((_t, i) => wanted.includes(KEYS[i]));

async function measure(target, size) {
  const server = await target.start();
  const workers = await startWorkers(target.mode, server.port, size);
  const { best, generatorBound } = await search(workers);
  await Promise.all(workers.map((w) => w.terminate()));
  await server.stop();
  const pps = best ? best.recvRate : 0;
  console.log(`${size} B  ${target.name.padEnd(28)} ${Math.round(pps).toString().padStart(8)} pkt/s  loss ${((best?.loss ?? 1) * 100).toFixed(2)} %${generatorBound ? '  (load generator saturated)' : ''}`);
  return { pps, loss: best?.loss ?? 1, generatorBound };
}

// Repeats interleave the targets so that a slow minute on a shared machine hits all of them.
const rows = [];
for (const size of SIZES) {
  const runs = new Map(targets.map((t) => [t.name, []]));
  for (let rep = 0; rep < REPEATS; rep++) for (const target of targets) runs.get(target.name).push(await measure(target, size));
  for (const target of targets) {
    const sorted = [...runs.get(target.name)].sort((a, b) => a.pps - b.pps);
    const median = sorted[Math.floor(sorted.length / 2)];
    const pps = median.pps;
    rows.push({ size, target: target.name, pps, min: sorted[0].pps, max: sorted[sorted.length - 1].pps, mbps: (pps * size * 8) / 1e6, loss: median.loss, generatorBound: sorted.some((r) => r.generatorBound) });
  }
}

const coturnVersion = (() => {
  try {
    return execFileSync('turnserver', ['--version'], { encoding: 'utf8' }).trim().split('\n')[0];
  } catch {
    return 'unknown';
  }
})();
const fmt = (n) => `${Math.round(n / 1000)}k`;
const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
const lines = [
  '# TURN relay benchmark (bench/turn)',
  '',
  `Relayed ChannelData client → UDP sink on 127.0.0.1, highest rate with ≤ ${MAX_LOSS * 100} % loss; median of ${REPEATS} runs per cell, targets interleaved (${TRIAL_MS} ms trials after ${SETTLE_MS} ms settling, rate doubled then bisected ${REFINE_STEPS}×, best rate confirmed by a repeat trial and the lower of the two reported), ${WORKERS} load-generator thread(s), one allocation/route per thread.`,
  `Machine: ${availableParallelism()} CPU(s), Node ${process.version}, coturn ${coturnVersion}. Load generator, sink and relay share these CPUs.`,
  `Pinhole TURN loaded via ${via}; its per-allocation bandwidth cap is disabled for the run.`,
  '',
  '| payload | relay | packets/s (median) | min–max | Mbit/s (payload) | loss | vs coturn | vs bare forwarder |',
  '|---:|---|---:|---:|---:|---:|---:|---:|',
];
for (const r of rows) {
  const coturn = rows.find((x) => x.size === r.size && x.target === 'coturn turnserver');
  const bare = rows.find((x) => x.size === r.size && x.target === 'bare Node dgram forwarder');
  lines.push(
    `| ${r.size} B | ${r.target}${r.generatorBound ? ' ¹' : ''} | ${Math.round(r.pps).toLocaleString('en-US')} | ${fmt(r.min)}–${fmt(r.max)} | ${r.mbps.toFixed(1)} | ${(r.loss * 100).toFixed(2)} % | ${ratio(r.pps, coturn?.pps ?? 0)} | ${ratio(r.pps, bare?.pps ?? 0)} |`,
  );
}
if (rows.some((r) => r.generatorBound)) lines.push('', '¹ the load generator could not send faster; the relay may have more headroom.');
lines.push(
  '',
  'The "no relay" row is the same generator sending straight to its sink: the ceiling of this',
  'harness on this machine. A relay that reaches it is not the bottleneck here.',
  '',
  'Reading this: relay, generator and sink share the same CPUs, so relays close to the "no relay"',
  'row are bounded by the harness, not by themselves; the min–max column shows how much the',
  'machine varied between repeats. Ratios within the spread are ties. For a real comparison run',
  'it on a dedicated host with spare cores (WORKERS=2 or more).',
);
lines.push('', `Run: \`node bench/turn/run.mjs\` (${new Date().toISOString().slice(0, 10)}).`, '');
writeFileSync(new URL('./RESULTS.md', import.meta.url), lines.join('\n'));
console.log(`\n${lines.join('\n')}`);
