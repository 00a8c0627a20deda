/**
 * Load generator process. Driven over IPC by run.mjs, phase by phase:
 *
 *   init {row, host, port, pairFrom, pairTo, window, size, nonce}
 *   connect   → open every endpoint (A side first, then B), join, learn partners  → 'connected'
 *   start     → every A puts `window` signals in flight                           → 'started'
 *   measure   → reset window counters + latency histogram                          → 'measuring'
 *   stop      → snapshot delivered count, histogram, event-loop utilisation        → 'stopped'
 *   drain     → A stops issuing; wait until every A's signals came back (≤ 10 s)   → 'drained'
 *   close     → close all endpoints                                                → 'closed', exit
 *
 * Workload (closed loop): A sends signal n to B; B echoes it back to A; each echo received by A
 * releases the next signal, so each A keeps exactly `window` signals in flight. Both directions
 * count as delivered messages. Latency is ONE-WAY: both ends of a pair live in this process, so
 * B computes now − t0 (A's send time) and A computes now − t1 (B's echo time) on the same clock.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { CLIENTS, SocketIoOfficial } from './lib/clients.mjs';
import { Histogram } from './lib/histogram.mjs';
import { signalData } from './lib/payload.mjs';

process.on('disconnect', () => process.exit(0));
const reply = (msg) => process.send(msg);

let cfg;
let pairs = [];
const problems = new Map();
const counts = { requests: 0 };
let requestsAtStart = 0;
const hist = new Histogram();
let sent = 0;
let received = 0;
let windowDelivered = 0;
let measuring = false;
let running = false;
let orderErrors = 0;
let windowStart = 0;
let eluStart;
let tickTimer;

async function pool(items, width, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(workers);
}

function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([promise, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: timeout after ${ms} ms`)), ms); })]).finally(() => clearTimeout(t));
}

function sendA(p) {
  const n = ++p.aSeq;
  p.outstanding++;
  sent++;
  p.a.send(signalData(n, performance.now(), 0, cfg.size));
}

function wire(p) {
  // B: echo everything back, stamped with its own send time.
  p.b.onData = (d) => {
    const now = performance.now();
    received++;
    if (d.n !== p.bNext) orderErrors++;
    p.bNext = d.n + 1;
    if (measuring) { windowDelivered++; hist.record(now - d.t0); }
    d.t1 = performance.now();
    sent++;
    p.b.send(d);
  };
  // A: count the echo, release the next signal.
  p.a.onData = (d) => {
    const now = performance.now();
    received++;
    if (d.n !== p.aNext) orderErrors++;
    p.aNext = d.n + 1;
    p.outstanding--;
    if (measuring) { windowDelivered++; hist.record(now - d.t1); }
    if (running) sendA(p);
  };
}

const handlers = {
  async init(msg) {
    cfg = msg;
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 100_000 });
    const opts = { host: cfg.host, port: cfg.port, nonce: cfg.nonce, agent, problems, counts, sioTransport: cfg.row === 'socket.io polling' ? 'polling' : 'websocket' };
    const Client = cfg.row.startsWith('socket.io') && cfg.sioClient === 'official' ? SocketIoOfficial : CLIENTS[cfg.row];
    for (let i = cfg.pairFrom; i < cfg.pairTo; i++) {
      pairs.push({ i, a: new Client(opts, i, 'a'), b: new Client(opts, i, 'b'), aSeq: 0, aNext: 1, bNext: 1, outstanding: 0 });
    }
    return { ev: 'inited' };
  },

  async connect() {
    const t0 = performance.now();
    const up = async (ep) => { await withTimeout(ep.open(), 15_000, `${cfg.row} open`); await withTimeout(ep.join(), 15_000, `${cfg.row} join`); };
    await pool(pairs.map((p) => p.a), 50, up);
    await pool(pairs.map((p) => p.b), 50, up);
    await withTimeout(Promise.all(pairs.flatMap((p) => [p.a.partnerKnown, p.b.partnerKnown])), 15_000, `${cfg.row} partner discovery`);
    for (const p of pairs) wire(p);
    tickTimer = setInterval(() => {
      const now = performance.now();
      for (const p of pairs) { p.a.tick(now); p.b.tick(now); }
    }, 100);
    return { ev: 'connected', endpoints: pairs.length * 2, ms: performance.now() - t0, extensions: pairs[0]?.a.extensions ?? null };
  },

  async start() {
    running = true;
    for (let k = 0; k < cfg.window; k++) for (const p of pairs) sendA(p);
    return { ev: 'started' };
  },

  async measure() {
    hist.reset();
    windowDelivered = 0;
    requestsAtStart = counts.requests;
    windowStart = performance.now();
    eluStart = performance.eventLoopUtilization();
    measuring = true;
    return { ev: 'measuring' };
  },

  async stop() {
    measuring = false;
    const seconds = (performance.now() - windowStart) / 1000;
    const elu = performance.eventLoopUtilization(eluStart).utilization;
    return { ev: 'stopped', delivered: windowDelivered, requests: counts.requests - requestsAtStart, seconds, elu, hist: hist.toSparse() };
  },

  async drain() {
    running = false;
    const deadline = performance.now() + 10_000;
    const outstanding = () => pairs.reduce((s, p) => s + p.outstanding, 0);
    while (outstanding() > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return { ev: 'drained', sent, received, outstanding: outstanding(), orderErrors, problems: [...problems] };
  },

  async close() {
    clearInterval(tickTimer);
    for (const p of pairs) { p.a.close(); p.b.close(); }
    return { ev: 'closed' };
  },
};

process.on('message', async (msg) => {
  try {
    reply(await handlers[msg.cmd](msg));
  } catch (err) {
    reply({ ev: 'error', cmd: msg.cmd, error: String(err?.stack || err), problems: [...problems] });
  }
});
