/**
 * Load generator for the cluster bench, driven over IPC by run.mjs (connect → measure → stop
 * → drain → close). Same closed loop as bench/signaling (A sends, B echoes, `window` signals
 * in flight per pair) with the same raw WebSocket hub client, but A of pair i talks to node
 * i mod N and B to node (i + 1) mod N: with 2 or 3 nodes every signal crosses nodes.
 */
import { performance } from 'node:perf_hooks';
import { HubWs } from '../signaling/lib/clients.mjs';
import { Histogram } from '../signaling/lib/histogram.mjs';
import { signalData } from '../signaling/lib/payload.mjs';

process.on('disconnect', () => process.exit(0));
const problems = new Map();
const hist = new Histogram();
let cfg;
let pairs = [];
let running = false;
let measuring = false;
let delivered = 0;
let sent = 0;
let received = 0;
let orderErrors = 0;
let windowStart = 0;
let ticker;

const endpoint = (pair, role, port) => new HubWs({ host: '127.0.0.1', port, nonce: cfg.nonce, problems }, pair, role);

function sendA(p) {
  p.outstanding++;
  sent++;
  p.a.send(signalData(++p.aSeq, performance.now(), 0, cfg.size));
}

function wire(p) {
  p.b.onData = (d) => {
    received++;
    if (d.n !== p.bNext) orderErrors++;
    p.bNext = d.n + 1;
    if (measuring) { delivered++; hist.record(performance.now() - d.t0); }
    d.t1 = performance.now();
    sent++;
    p.b.send(d);
  };
  p.a.onData = (d) => {
    received++;
    if (d.n !== p.aNext) orderErrors++;
    p.aNext = d.n + 1;
    p.outstanding--;
    if (measuring) { delivered++; hist.record(performance.now() - d.t1); }
    if (running) sendA(p);
  };
}

const handlers = {
  async connect(msg) {
    cfg = msg;
    const n = cfg.ports.length;
    pairs = Array.from({ length: cfg.pairs }, (_, i) => ({
      a: endpoint(i, 'a', cfg.ports[i % n]),
      b: endpoint(i, 'b', cfg.ports[(i + 1) % n]),
      aSeq: 0, aNext: 1, bNext: 1, outstanding: 0,
    }));
    const up = async (ep) => { await ep.open(); await ep.join(); };
    for (let i = 0; i < pairs.length; i += 50) await Promise.all(pairs.slice(i, i + 50).map((p) => up(p.a)));
    for (let i = 0; i < pairs.length; i += 50) await Promise.all(pairs.slice(i, i + 50).map((p) => up(p.b)));
    await Promise.all(pairs.flatMap((p) => [p.a.partnerKnown, p.b.partnerKnown]));
    for (const p of pairs) wire(p);
    ticker = setInterval(() => { const now = performance.now(); for (const p of pairs) { p.a.tick(now); p.b.tick(now); } }, 100);
    running = true;
    for (let k = 0; k < cfg.window; k++) for (const p of pairs) sendA(p);
    return { ev: 'connected' };
  },
  async measure() {
    hist.reset();
    delivered = 0;
    windowStart = performance.now();
    measuring = true;
    return { ev: 'measuring' };
  },
  async stop() {
    measuring = false;
    return { ev: 'stopped', delivered, seconds: (performance.now() - windowStart) / 1000, p50: hist.quantile(0.5), p99: hist.quantile(0.99), max: hist.max };
  },
  async drain() {
    running = false;
    const deadline = performance.now() + 10_000;
    const outstanding = () => pairs.reduce((s, p) => s + p.outstanding, 0);
    while (outstanding() > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    clearInterval(ticker);
    for (const p of pairs) { p.a.close(); p.b.close(); }
    return { ev: 'drained', sent, received, lost: sent - received, orderErrors, problems: [...problems] };
  },
};

process.on('message', async (msg) => {
  try {
    process.send(await handlers[msg.cmd](msg));
  } catch (err) {
    process.send({ ev: 'error', error: String(err?.stack || err) });
  }
});
