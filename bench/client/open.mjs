#!/usr/bin/env node
/**
 * Time to a usable data channel, Node ↔ Node on loopback (node-datachannel), median of N:
 *
 *   raw  — two RTCPeerConnections in one process, descriptions and candidates handed over
 *          directly (no signaling at all): createDataChannel → 'open' on both sides;
 *   sdk  — two SDK sessions already connected to a real hub (HTTP, loopback) on the given
 *          transport: the second peer's `join()` → the named channel it opens is 'open'
 *          on both sides (join round trip + offer/answer/candidates through the hub).
 *
 *   node bench/client/open.mjs [--runs 30] [--transport ws|sse|poll] [--json]
 *
 * Needs the built packages (`npm run build`); `npm run bench:client` does both.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { pino } from 'pino';
import { startHub } from '../../packages/server/dist/index.js';
import { connect } from '../../packages/client/dist/node.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' }, transport: { type: 'string', default: 'ws' }, json: { type: 'boolean', default: false } } });
const RUNS = Number(values.runs);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const opened = (dc) => new Promise((resolve) => (dc.readyState === 'open' ? resolve() : dc.addEventListener('open', () => resolve(), { once: true })));

async function raw() {
  const t0 = performance.now();
  const a = new RTCPeerConnection({ iceServers: [] });
  const b = new RTCPeerConnection({ iceServers: [] });
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const remote = new Promise((resolve) => (b.ondatachannel = (e) => opened(e.channel).then(resolve)));
  const dc = a.createDataChannel('bench');
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription);
  await Promise.all([opened(dc), remote]);
  const ms = performance.now() - t0;
  a.close();
  b.close();
  return ms;
}

async function sdk(url, transport, i) {
  const alice = await connect(url, { transports: [transport] });
  const bob = await connect(url, { transports: [transport] });
  const room = `open-${i}`;
  const ra = await alice.join(room);
  const incoming = new Promise((resolve) => ra.on('peer-joined', (p) => p.on('channel', (ch) => (ch.state === 'open' ? resolve() : ch.once('open', resolve)))));
  const t0 = performance.now();
  const rb = await bob.join(room);
  const ch = rb.peers.get(alice.peerId).channel('bench');
  await Promise.all([new Promise((resolve) => (ch.state === 'open' ? resolve() : ch.once('open', resolve))), incoming]);
  const ms = performance.now() - t0;
  await alice.close();
  await bob.close();
  return ms;
}

const hub = await startHub({ host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), ratePerSecond: 0 });
const rawMs = [];
const sdkMs = [];
for (let i = 0; i < 3; i++) {
  await raw(); // warm-up
  await sdk(hub.url, values.transport, `w${i}`);
}
// Interleave so both see the same machine load.
for (let i = 0; i < RUNS; i++) {
  await new Promise((r) => setTimeout(r, 100));
  rawMs.push(await raw());
  await new Promise((r) => setTimeout(r, 100));
  sdkMs.push(await sdk(hub.url, values.transport, i));
}
await hub.close();
// libjuice sometimes needs one ~1 s connectivity-check retransmission (seen with and without
// signaling alike); report how often, and the median of the runs without it as well.
const STALL_MS = 500;
const fast = (xs) => xs.filter((x) => x < STALL_MS);
const result = {
  runs: RUNS,
  transport: values.transport,
  rawP50: median(rawMs),
  sdkP50: median(sdkMs),
  ratio: median(sdkMs) / median(rawMs),
  rawStalls: RUNS - fast(rawMs).length,
  sdkStalls: RUNS - fast(sdkMs).length,
  rawFastP50: median(fast(rawMs)),
  sdkFastP50: median(fast(sdkMs)),
};
if (process.env.SHOW_RUNS) console.log("raw", rawMs.map((x) => x.toFixed(0)).join(" "), "\nsdk", sdkMs.map((x) => x.toFixed(0)).join(" "));
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`join → data channel open, Node ↔ Node loopback, median of ${RUNS} (interleaved)`);
  console.log(`  raw node-datachannel (no signaling): p50 ${result.rawP50.toFixed(1)} ms; ${result.rawStalls} runs ≥ ${STALL_MS} ms; p50 of the others ${result.rawFastP50.toFixed(1)} ms`);
  console.log(`  SDK via hub (${values.transport}):             p50 ${result.sdkP50.toFixed(1)} ms; ${result.sdkStalls} runs ≥ ${STALL_MS} ms; p50 of the others ${result.sdkFastP50.toFixed(1)} ms`);
  console.log(`  ratio of p50s ${result.ratio.toFixed(2)}×, of fast-run p50s ${(result.sdkFastP50 / result.rawFastP50).toFixed(2)}× (goal ≤ 1.25×)`);
}
process.exit(0);
