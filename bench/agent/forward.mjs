// The agent's `forward` tunnel on loopback against what it is built on, in one process:
//
// throughput (100 MiB per run, timed from the client's TCP connect to the sink's last byte):
//   tunnel  TCP client → LocalForward (AgentClient.forward) → one RTCDataChannel → Agent →
//           TCP sink; a real hub in between for signaling, default stream tunables
//   dc      bare node-datachannel channel between two peers: 64 KiB sends, waiting for
//           `bufferedamountlow` above 4 MiB (threshold 1 MiB) — bench/client/throughput.mjs (a)
//   tcp     plain TCP loopback, 64 KiB writes, waiting for 'drain' (reference)
// latency (a 64-byte message sent, the whole echo awaited, then the next; p50/p99):
//   tunnel  through the tunnel to a TCP echo server behind the agent
//   dc      over a bare data channel echoed by the far peer's message handler
//   tcp     to a TCP echo server directly
//
// Rows run interleaved (tunnel dc tcp, tunnel dc tcp, …) so load drift hits every row alike;
// throughput rows report the median of the runs, latency rows pool the round trips of all runs.
//
//   node bench/agent/forward.mjs [--mb 100] [--runs 5] [--pings 2000] [--size 64]
//
// The agent, its test fixture (hub + agent + client session) and the client's test host are
// TypeScript: they are bundled with esbuild (workspace packages from src) into bench/.tmp/agent/.
import { build } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { timedSend } from '../lib/datachannel.mjs';

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '100' },
    runs: { type: 'string', default: '5' },
    pings: { type: 'string', default: '2000' },
    size: { type: 'string', default: '64' },
  },
});
const TOTAL = Number(args.mb) * 1024 * 1024;
const RUNS = Number(args.runs);
const PINGS_PER_RUN = Math.ceil(Number(args.pings) / RUNS);
const PING_BYTES = Number(args.size);
const CHUNK = 64 * 1024;
const HIGH = 4 * 1024 * 1024;
const LOW = 1024 * 1024;

const root = new URL('../../', import.meta.url).pathname;
const out = join(root, 'bench/.tmp/agent');
await mkdir(out, { recursive: true });
await build({
  stdin: {
    contents: `export { fixture, tcpServer } from './packages/agent/test/support.ts';
               export { connectPair } from './packages/client/test/support/channel-host.ts';`,
    resolveDir: root,
    loader: 'ts',
  },
  outfile: join(out, 'forward.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['pinhole-source'], // @pinhole/* from src, like vitest
  plugins: [
    {
      name: 'npm-external', // only our TypeScript is bundled; npm packages load from node_modules
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@pinhole/') ? undefined : { path: a.path, external: true }));
      },
    },
  ],
  logLevel: 'warning',
});
const { fixture, tcpServer, connectPair } = await import(join(out, 'forward.mjs'));

const payload = randomBytes(TOTAL);
const cleanup = [];

// Targets behind the agent, also used directly by the tcp rows.
let sinkDone;
let sunk = 0;
const sink = await tcpServer((s) => {
  s.on('data', (c) => {
    sunk += c.length;
    if (sunk >= TOTAL) sinkDone?.();
  });
  s.on('end', () => s.end());
}, cleanup);
const echo = await tcpServer((s) => {
  s.setNoDelay(true);
  s.pipe(s);
}, cleanup);
const f = await fixture(
  {
    expose: [
      { name: 'sink', host: '127.0.0.1', port: sink.port },
      { name: 'echo', host: '127.0.0.1', port: echo.port },
    ],
  },
  cleanup,
);
const sinkFwd = await f.client.forward({ port: 0, target: 'sink' });
const echoFwd = await f.client.forward({ port: 0, target: 'echo' });
cleanup.push(() => sinkFwd.close(), () => echoFwd.close());

/** Ends our side, resolves once the far side has ended too (a clean FIN both ways, no reset). */
function closed(s) {
  return new Promise((resolve) => (s.once('close', resolve), s.end()));
}

/** Writes the payload to a TCP port in 64 KiB writes; resolves (ms) once the sink has it all. */
async function tcpSend(port) {
  sunk = 0;
  const received = new Promise((resolve) => (sinkDone = resolve));
  const t0 = performance.now();
  const s = tcpConnect({ port, host: '127.0.0.1' });
  for (let at = 0; at < TOTAL; at += CHUNK) {
    if (!s.write(payload.subarray(at, at + CHUNK))) await new Promise((r) => s.once('drain', r));
  }
  await received;
  const ms = performance.now() - t0;
  await closed(s);
  if (sunk !== TOTAL) throw new Error(`sink got ${sunk} of ${TOTAL} bytes`);
  return ms;
}

/** Two bare peers and one channel; `echo` makes the far side send every message back. */
async function bareChannel(echoBack) {
  const pair = await connectPair();
  const tx = pair.a.createDataChannel('bench');
  const rx = await new Promise((r) => pair.b.once('datachannel', r));
  if (tx.readyState !== 'open') await new Promise((r) => tx.addEventListener('open', r));
  tx.binaryType = rx.binaryType = 'arraybuffer';
  if (echoBack) rx.addEventListener('message', (e) => rx.send(new Uint8Array(e.data)));
  return { pair, tx, rx };
}

async function dcSend() {
  const { pair, tx, rx } = await bareChannel(false);
  try {
    return await timedSend(tx, rx, payload, { chunk: CHUNK, high: HIGH, low: LOW });
  } finally {
    await pair.close();
  }
}

/** `n` sequential round trips of PING_BYTES over a TCP port (reassembling segments); ms each. */
async function tcpPings(port, n) {
  const s = tcpConnect({ port, host: '127.0.0.1' });
  s.setNoDelay(true);
  await new Promise((resolve, reject) => s.once('connect', resolve).once('error', reject));
  let got = 0;
  let back;
  s.on('data', (c) => (got += c.length) >= PING_BYTES && back());
  const ping = randomBytes(PING_BYTES);
  const rtts = [];
  for (let i = 0; i < n + 1; i++) {
    got = 0;
    const t0 = performance.now();
    await new Promise((r) => ((back = r), s.write(ping)));
    if (i > 0) rtts.push(performance.now() - t0); // the first one through the tunnel includes the stream's open
  }
  await closed(s);
  return rtts;
}

async function dcPings(n) {
  const { pair, tx } = await bareChannel(true);
  try {
    let back;
    tx.addEventListener('message', () => back());
    const ping = randomBytes(PING_BYTES);
    const rtts = [];
    for (let i = 0; i < n + 1; i++) {
      const t0 = performance.now();
      await new Promise((r) => ((back = r), tx.send(ping)));
      if (i > 0) rtts.push(performance.now() - t0);
    }
    return rtts;
  } finally {
    await pair.close();
  }
}

const rows = {
  tunnel: { name: 'forward tunnel', send: () => tcpSend(sinkFwd.address.port), pings: (n) => tcpPings(echoFwd.address.port, n) },
  dc: { name: 'bare data channel', send: dcSend, pings: dcPings },
  tcp: { name: 'TCP loopback', send: () => tcpSend(sink.port), pings: (n) => tcpPings(echo.port, n) },
};
const mbps = Object.fromEntries(Object.keys(rows).map((k) => [k, []]));
const rtts = Object.fromEntries(Object.keys(rows).map((k) => [k, []]));
// CPU time of this process (JS thread + node-datachannel's native threads) per MB sent:
// less hostage to other work on a shared machine than wall-clock MB/s.
const cpu = Object.fromEntries(Object.keys(rows).map((k) => [k, []]));

console.log(`${args.mb} MiB per run, ${RUNS} interleaved runs; ${PINGS_PER_RUN * RUNS} round trips of ${PING_BYTES} B per row`);
for (let run = 0; run < RUNS; run++) {
  for (const [k, row] of Object.entries(rows)) {
    const c0 = process.cpuUsage();
    const ms = await row.send();
    const c = process.cpuUsage(c0);
    mbps[k].push(TOTAL / 1e6 / (ms / 1000));
    cpu[k].push((c.user + c.system) / 1000 / (TOTAL / 1e6));
    rtts[k].push(...(await row.pings(PINGS_PER_RUN)));
    const mid = [...rtts[k]].sort((x, y) => x - y)[Math.floor(rtts[k].length / 2)];
    console.log(`  run ${run + 1} ${k.padEnd(6)} ${mbps[k].at(-1).toFixed(1).padStart(7)} MB/s ${cpu[k].at(-1).toFixed(2).padStart(6)} CPU ms/MB   p50 so far ${(mid * 1000).toFixed(0)} µs`);
  }
}
const streams = sinkFwd.results.concat(echoFwd.results);
if (!streams.every((r) => r.ok)) throw new Error(`a tunnel stream failed: ${streams.find((r) => !r.ok)?.error?.message}`);
for (const fn of cleanup.reverse()) await fn();

const pct = (xs, p) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const us = (ms) => `${(ms * 1000).toFixed(0)} µs`;
console.log('\nrow                  median MB/s  tunnel ÷ row   CPU ms/MB  tunnel ÷ row     RTT p50       p99  tunnel p50 ÷ row');
for (const [k, row] of Object.entries(rows)) {
  const m = pct(mbps[k], 50);
  const c = pct(cpu[k], 50);
  const p50 = pct(rtts[k], 50);
  console.log(
    `${row.name.padEnd(20)} ${m.toFixed(1).padStart(11)} ${(pct(mbps.tunnel, 50) / m).toFixed(2).padStart(12)}× ${c.toFixed(2).padStart(11)} ${(pct(cpu.tunnel, 50) / c).toFixed(2).padStart(12)}× ${us(p50).padStart(11)} ${us(pct(rtts[k], 99)).padStart(9)} ${(pct(rtts.tunnel, 50) / p50).toFixed(2).padStart(16)}×`,
  );
}
console.log(`added latency of the tunnel over the bare channel: p50 +${us(pct(rtts.tunnel, 50) - pct(rtts.dc, 50))}, p99 +${us(pct(rtts.tunnel, 99) - pct(rtts.dc, 99))}`);
process.exit(0);
