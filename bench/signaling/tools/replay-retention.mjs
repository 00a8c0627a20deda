#!/usr/bin/env node
/**
 * How much memory does the hub keep per session for frames the client has ALREADY acknowledged?
 *
 *   node --expose-gc bench/signaling/tools/replay-retention.mjs [--hub <module|path>] [--pairs 50] [--steps 12] [--per-step 40]
 *
 * Runs the hub in this process with `pairs` WebSocket pairs. In each step every pair does
 * `per-step` signal round trips (so every session's seq grows by `per-step`), then traffic stops,
 * every client acknowledges everything (explicit ack), and after a forced GC the hub's heap is
 * compared with the heap before any traffic. The hub's own gauge `unacked` should be 0 at each
 * point, so a correct replay buffer retains ~nothing; the heap column shows what it does retain.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { HubWs } from '../lib/clients.mjs';
import { signalData } from '../lib/payload.mjs';

if (typeof gc !== 'function') {
  console.error('run with: node --expose-gc bench/signaling/tools/replay-retention.mjs');
  process.exit(2);
}
const args = process.argv.slice(2);
const arg = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const hubSpec = arg('--hub', '@pinhole/server');
const pairsN = Number(arg('--pairs', 50));
const steps = Number(arg('--steps', 12));
const perStep = Number(arg('--per-step', 40));

const mod = await import(hubSpec.startsWith('.') || hubSpec.startsWith('/') ? pathToFileURL(path.resolve(hubSpec, hubSpec.endsWith('.js') ? '' : 'index.js')).href : hubSpec);
const { default: pino } = await import('pino');
const hub = await mod.startHub({ host: '127.0.0.1', port: 0, ratePerSecond: Infinity, maxConnectionsPerIp: Infinity, logger: pino({ level: 'error' }) });
const opts = { host: '127.0.0.1', port: hub.port, nonce: 'rr', problems: new Map() };
const pairs = [];
try {
  for (let i = 0; i < pairsN; i++) pairs.push({ a: new HubWs(opts, i, 'a'), b: new HubWs(opts, i, 'b') });
  for (const p of pairs) { await p.a.open(); await p.a.join(); }
  for (const p of pairs) { await p.b.open(); await p.b.join(); }
  await Promise.all(pairs.flatMap((p) => [p.a.partnerKnown, p.b.partnerKnown]));
  const settle = async () => {
    await new Promise((r) => setTimeout(r, 100));
    for (const p of pairs) { p.a._sendAck(); p.b._sendAck(); }
    await new Promise((r) => setTimeout(r, 200));
    gc(); gc();
    return process.memoryUsage().heapUsed;
  };
  const base = await settle();
  const sessions = () => [...hub.hub.sessions.values()];
  console.log('seq/session  unacked(hub gauge)  heap retained per session (KB)');
  for (let step = 1; step <= steps; step++) {
    await Promise.all(pairs.map((p) => new Promise((done) => {
      let left = perStep;
      let n = 0;
      p.b.onData = (d) => p.b.send(d);
      p.a.onData = () => { if (--left === 0) done(); else p.a.send(signalData(++n, 0, 0, 300)); };
      p.a.send(signalData(++n, 0, 0, 300));
    })));
    const heap = await settle();
    const ss = sessions();
    const seq = ss.reduce((s, x) => s + x.seq, 0) / ss.length;
    const unacked = ss.reduce((s, x) => s + x.unacked, 0);
    console.log(`${seq.toFixed(0).padStart(11)}  ${String(unacked).padStart(18)}  ${((heap - base) / ss.length / 1024).toFixed(1).padStart(30)}`);
  }
} finally {
  for (const p of pairs) { p.a.close(); p.b.close(); }
  await hub.close();
}
process.exit(0);
