// SFU fan-out cost per engine: the send path that decides an SFU's capacity (one SRTP encrypt +
// UDP send per packet per subscriber). For each engine and each N, this process opens N send-only
// peer connections (the engine offers, as the SFU does toward subscribers), node-datachannel
// receivers in a child process answer, and video RTP (1,200-byte payload) goes to every
// subscriber at RATE packets/s each for SECONDS. Measured from this process's own CPU time
// (getrusage: every thread, native ones included) so that other load on the machine does not
// distort it: CPU µs per forwarded packet (idle cost of the open connections subtracted),
// the packets/s one core would carry at that cost, memory per subscriber, and loss.
//   npm run bench:sfu   (builds packages/sfu/dist for the whole-SFU row, then node --expose-gc bench/sfu/run.mjs)
// Env: ENGINES (default "node-datachannel,werift,sfu"; "sfu" is the whole SFU of packages/sfu/dist; "whep" and
//      "whep-werift" the whole SFU with N WHEP-style viewers — they offer, the SFU answers — on its default viewer
//      engine (node-datachannel) or on werift; "janus" the same publisher and subscribers through Debian's Janus
//      VideoRoom, bench/sfu/janus-trial.mjs; JANUS_EVENT_LOOPS=k gives Janus k shared event loops instead of its
//      default thread per handle), SUBSCRIBERS (default "25,100"),
//      RATE (packets/s per subscriber, default 150 ≈ 1.5 Mbps), SECONDS (default 10), RESULTS_FILE.
//      BIND_V4=1 binds the node-datachannel receivers to the machine's IPv4 address, so every pair is IPv4 as Janus's
//      (its harness config is IPv4-only); unset, libjuice's pairs run over IPv6 where the host has it.
import { fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { ndcEngine, weriftEngine } from './engines.mjs';
import { janusTrial } from './janus-trial.mjs';

const ENGINES = (process.env.ENGINES ?? 'node-datachannel,werift,sfu').split(',');
const SUBSCRIBERS = (process.env.SUBSCRIBERS ?? '25,100').split(',').map(Number);
const RATE = Number(process.env.RATE ?? 150);
const SECONDS = Number(process.env.SECONDS ?? 10);
const TICK_MS = 20;
const PAYLOAD = 1200;
const makers = { 'node-datachannel': ndcEngine, werift: weriftEngine };

const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const heap = () => {
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, js: m.heapUsed + m.external + m.arrayBuffers };
};

function receivers() {
  const child = fork(new URL('./receivers.mjs', import.meta.url), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map();
  let countWaiter;
  let publisherOffer;
  let stopped;
  child.on('message', (msg) => {
    if (msg.type === 'answer' || msg.type === 'viewer-offer') pending.get(msg.id)?.(msg.sdp);
    else if (msg.type === 'count') countWaiter?.(msg.received);
    else if (msg.type === 'publisher-offer') publisherOffer?.(msg.sdp);
    else if (msg.type === 'stopped') stopped?.(msg.sent);
  });
  return {
    publish: (rate) =>
      new Promise((resolve) => {
        publisherOffer = resolve;
        child.send({ type: 'publish', rate });
      }),
    publisherAnswer: (sdp) => child.send({ type: 'publisher-answer', sdp }),
    start: () => child.send({ type: 'start' }),
    stop: () =>
      new Promise((resolve) => {
        stopped = resolve;
        child.send({ type: 'stop' });
      }),
    answerFor: (id, sdp) =>
      new Promise((resolve) => {
        pending.set(id, resolve);
        child.send({ type: 'offer', id, sdp });
      }),
    viewerOffer: (id) =>
      new Promise((resolve) => {
        pending.set(id, resolve);
        child.send({ type: 'view', id });
      }),
    viewerAnswer: (id, sdp) => child.send({ type: 'viewer-answer', id, sdp }),
    count: () =>
      new Promise((resolve) => {
        countWaiter = resolve;
        child.send({ type: 'count' });
      }),
    close: () => new Promise((resolve) => { child.once('exit', resolve); child.send({ type: 'close' }); }),
  };
}

/** One packet of the publisher's stream; each subscriber gets a copy with its own SSRC, sequence and timestamp. */
function packetFor(template, ssrc, seq, timestamp) {
  const p = Buffer.allocUnsafe(template.length);
  template.copy(p);
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE(timestamp >>> 0, 4);
  p.writeUInt32BE(ssrc >>> 0, 8);
  return p;
}

/**
 * The whole SFU (packages/sfu/dist, default engine): a node-datachannel publisher in the child
 * process sends one VP8 stream at RATE packets/s, the SFU receives it (werift: one decrypt per
 * packet), rewrites it per subscriber and sends it to N subscribers (node-datachannel). CPU per
 * forwarded packet here includes the receive side, spread over the N copies.
 */
async function sfuTrial(n, viewers) {
  const { Sfu, WeriftEngine, DataChannelEngine, combineEngines } = await import('../../packages/sfu/dist/index.js');
  const rx = receivers();
  const before = heap();
  // Capacity is what is measured here: no limits (SfuLimits) in the way.
  const limits = { subscribersPerRoom: Infinity, forwardedStreams: Infinity };
  const sfu = viewers === 'werift' ? new Sfu({ limits, engine: combineEngines(new WeriftEngine(), new DataChannelEngine(), new WeriftEngine()) }) : new Sfu({ limits });
  const room = sfu.room('bench');
  const offer = await rx.publish(RATE);
  rx.publisherAnswer(await room.publish('publisher', offer));
  await sleep(1000);
  rx.start(); // a few packets so the publisher's track is known to the SFU
  await sleep(500);
  await rx.stop();
  let connected = 0;
  const failures = [];
  for (let i = 0; i < n; i += 10) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 10); j++) {
      batch.push((async () => {
        try {
          if (viewers) {
            rx.viewerAnswer(j, await room.view(`v${j}`, 'publisher', await rx.viewerOffer(j)));
          } else {
            // Each subscriber's session (one transport) with the one publisher; its offer comes through the signals.
            const subOffer = await new Promise((resolve, reject) => {
              const signals = { offer: (o) => resolve(o.sdp), candidates: () => undefined, closed: () => undefined };
              room.subscribe(`s${j}`, 'publisher', signals).catch(reject);
            });
            await room.acceptAnswer(`s${j}`, await rx.answerFor(j, subOffer));
          }
          connected++;
        } catch (err) {
          failures.push(err.message);
        }
      })());
    }
    await Promise.all(batch);
  }
  await sleep(1000);
  const after = heap();
  const idle0 = cpuMicros();
  const idleStart = performance.now();
  await sleep(3000);
  const idleRate = (cpuMicros() - idle0) / (performance.now() - idleStart);
  const sentBefore = 0;
  const cpu0 = cpuMicros();
  const start = performance.now();
  const baseline = (await rx.count()).reduce((a, b) => a + (b ?? 0), 0);
  rx.start();
  await sleep(SECONDS * 1000);
  const published = await rx.stop();
  const wall = performance.now() - start;
  const cpu = cpuMicros() - cpu0 - idleRate * wall;
  await sleep(1500);
  const got = (await rx.count()).reduce((a, b) => a + (b ?? 0), 0) - baseline;
  sfu.close();
  await rx.close();
  if (failures.length) console.error(`${failures.length} of ${n} subscribers failed to connect: ${[...new Set(failures)].join('; ')}`);
  n = connected;
  const inWindow = published - sentBefore;
  const sent = got; // forwarded packets that arrived; loss is against what the publisher sent × n
  const perPacket = cpu / Math.max(1, sent);
  return {
    engine: viewers ? `whole SFU, WHEP viewers on ${viewers}` : 'whole SFU (werift in, node-datachannel out)',
    failedSetups: failures.length,
    n,
    sent,
    loss: 1 - got / (inWindow * n),
    pktsPerSec: sent / (wall / 1000),
    cpuShare: cpu / (wall * 1000),
    perPacket,
    perCore: 1e6 / perPacket,
    idleCpuShare: idleRate / 1000,
    rssPerSub: (after.rss - before.rss) / n,
    jsPerSub: (after.js - before.js) / n,
  };
}

async function trial(engineName, n) {
  if (engineName === 'sfu') return sfuTrial(n);
  if (engineName === 'whep') return sfuTrial(n, 'node-datachannel');
  if (engineName === 'whep-werift') return sfuTrial(n, 'werift');
  if (engineName === 'janus') {
    const rx = receivers();
    try {
      return await janusTrial(n, rx, { rate: RATE, seconds: SECONDS });
    } finally {
      await rx.close();
    }
  }
  const engine = await makers[engineName]();
  const rx = receivers();
  const before = heap();
  const subs = [];
  for (let i = 0; i < n; i += 10) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 10); j++) batch.push(engine.subscriber(j, rx.answerFor));
    subs.push(...(await Promise.all(batch)));
  }
  await sleep(1000);
  const after = heap();

  // Idle cost of n open connections (timers, RTCP, consent checks), subtracted below.
  const idle0 = cpuMicros();
  const idleStart = performance.now();
  await sleep(3000);
  const idleRate = (cpuMicros() - idle0) / (performance.now() - idleStart);

  const template = Buffer.alloc(12 + PAYLOAD, 0xab);
  template[0] = 0x80;
  template[1] = 96;
  template[12] = 0x10; // VP8 payload descriptor: start of partition
  const perTick = (RATE * TICK_MS) / 1000;
  let seq = 0;
  let ts = 0;
  let sent = 0;
  const cpu0 = cpuMicros();
  const start = performance.now();
  let ticks = 0;
  while (performance.now() - start < SECONDS * 1000) {
    for (let k = 0; k < perTick; k++) {
      seq++;
      if (k === 0) ts += 90000 * (TICK_MS / 1000);
      for (const s of subs) {
        s.send(packetFor(template, s.ssrc, seq, ts));
        sent++;
      }
    }
    ticks++;
    const next = start + ticks * TICK_MS;
    await sleep(Math.max(0, next - performance.now()));
  }
  const wall = performance.now() - start;
  const cpu = cpuMicros() - cpu0 - idleRate * wall;
  await sleep(1500);
  const got = (await rx.count()).reduce((a, b) => a + (b ?? 0), 0);
  for (const s of subs) s.close();
  await rx.close();
  await engine.shutdown();
  const perPacket = cpu / sent;
  return {
    engine: engineName,
    n,
    sent,
    loss: 1 - got / sent,
    pktsPerSec: sent / (wall / 1000),
    cpuShare: cpu / (wall * 1000),
    perPacket,
    perCore: 1e6 / perPacket,
    idleCpuShare: idleRate / 1000,
    rssPerSub: (after.rss - before.rss) / n,
    jsPerSub: (after.js - before.js) / n,
  };
}

// Each trial in a fresh process: memory per subscriber is then not blurred by the previous
// trial's garbage and native allocations.
if (process.argv[2] === '--trial') {
  const r = await trial(process.argv[3], Number(process.argv[4]));
  process.stdout.write(JSON.stringify(r) + '\n');
  process.exit(0);
}
const runTrial = (engine, n) =>
  new Promise((resolve, reject) => {
    let out = '';
    const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--trial', engine, String(n)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`trial ${engine} ${n} exited ${code}`))));
  });
const rows = [];
for (const n of SUBSCRIBERS) {
  for (const e of ENGINES) {
    const r = await runTrial(e, n);
    rows.push(r);
    console.log(JSON.stringify(r));
  }
}

const commit = (() => { try { return execFileSync('git', ['rev-parse', '--short', 'HEAD']).toString().trim(); } catch { return '?'; } })();
const f = (x, d = 1) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const lines = [
  `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, HEAD ${commit}, ${cpus().length} × ${cpus()[0]?.model ?? '?'},`,
  `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')};`,
  `${RATE} packets/s per subscriber, ${PAYLOAD}-byte payload, ${SECONDS} s per row.`,
  '',
  '| engine | subscribers | packets/s out | loss | CPU µs / packet | packets/s per core | subscribers per core at ' + RATE + ' pkt/s | idle CPU % | RSS KB / sub | JS heap+external KB / sub |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) =>
    `| ${r.engine} | ${r.n} | ${f(r.pktsPerSec, 0)} | ${f(r.loss * 100, 2)} % | **${f(r.perPacket, 2)}** | ${f(r.perCore, 0)} | ${f(r.perCore / RATE, 0)} | ${f(r.idleCpuShare * 100, 1)} | ${f(r.rssPerSub / 1024, 0)} | ${r.engine.startsWith('Janus') ? '—' : f(r.jsPerSub / 1024, 0)} |`),
];
// Our whole SFU against the anchor, same run, same N: CPU per forwarded packet and RSS per subscriber.
const ratios = SUBSCRIBERS.flatMap((n) => {
  const ours = rows.find((r) => r.engine.startsWith('whole SFU (') && r.n === n);
  const janus = rows.find((r) => r.engine.startsWith('Janus') && r.n === n);
  if (!ours || !janus) return [];
  return [`- ${n} subscribers: whole SFU / Janus CPU per forwarded packet ${f(ours.perPacket / janus.perPacket, 2)}×` +
    ` (${f(ours.perPacket, 2)} / ${f(janus.perPacket, 2)} µs), RSS per subscriber ${f(ours.rssPerSub / janus.rssPerSub, 2)}×,` +
    ` loss ${f(ours.loss * 100, 2)} % / ${f(janus.loss * 100, 2)} %`];
});
if (ratios.length) lines.push('', ...ratios);
console.log(lines.join('\n'));
if (process.env.RESULTS_FILE) writeFileSync(process.env.RESULTS_FILE, lines.join('\n') + '\n');
