#!/usr/bin/env node
/**
 * Server cost per relayed signal for a FIXED amount of work, not a rate, so that other load on
 * the machine (and the closed loop's batching, which changes with speed) does not move it.
 *
 *   node bench/signaling/tools/fixed-work.mjs <hub-sse|hub-poll|hub-ws|socket.io polling|…>
 *        [--hub <dir of a compiled hub>] [--pairs 20] [--window 1] [--signals 150] [--warmup 400]
 *
 * The server runs in its own process (server-child.mjs), the clients of lib/clients.mjs in this
 * one. Every A sends `--warmup` signals (JIT, buffers), then `--signals` more with `--window` in
 * flight; B echoes each. With `--window 1` every signal is one request (SSE: one POST; long-poll:
 * one POST and one poll answer), so the figure is the cost per request.
 *
 * Prints server CPU µs per signal, and with env CALLGRIND=<dir> runs the server under valgrind's
 * callgrind (single-threaded V8) and prints user-space instructions per signal counted only in
 * the measured phase: deterministic to ~2 %, and blind to the kernel (syscalls cost the same on
 * every server). PROF=<dir> writes a V8 CPU profile of the server instead.
 */
import { execFileSync, fork } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CLIENTS } from '../lib/clients.mjs';
import { signalData } from '../lib/payload.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const row = args[0];
const flag = (name, dflt) => { const i = args.indexOf(`--${name}`); return i === -1 ? dflt : args[i + 1]; };
if (!CLIENTS[row]) { console.error(`rows: ${Object.keys(CLIENTS).join(', ')}`); process.exit(2); }
const pairsN = Number(flag('pairs', 20));
const windowN = Number(flag('window', 1));
const signals = Number(flag('signals', 150));
const warmup = Number(flag('warmup', 400));
const hubDir = flag('hub', null);
const hubModule = hubDir ? pathToFileURL(path.join(path.resolve(hubDir), 'index.js')).href : '';
const kind = row.startsWith('socket.io') ? 'socketio' : row.startsWith('hub') ? 'hub' : row === 'peer' ? 'peer' : 'bare';

const CG = process.env.CALLGRIND;
const forkOpts = CG
  ? { execPath: 'valgrind', execArgv: ['--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', `--callgrind-out-file=${CG}/cg.%p`, process.execPath, '--single-threaded'] }
  : { execArgv: process.env.PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROF}`] : [] };
const srv = fork(path.join(HERE, '../server-child.mjs'), [kind], { ...forkOpts, env: { ...process.env, NODE_ENV: 'production', PINHOLE_HUB_MODULE: hubModule }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
process.on('exit', () => srv.kill('SIGKILL'));
const callgrind = (opt) => execFileSync('callgrind_control', [opt, String(srv.pid)], { encoding: 'utf8' });
const ready = await new Promise((resolve) => srv.once('message', resolve));
if (ready.ev !== 'ready') throw new Error(`server: ${ready.error}`);
const cpuTicks = () => { const f = readFileSync(`/proc/${srv.pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };

const counts = { requests: 0 };
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const opts = { host: '127.0.0.1', port: ready.port, nonce: `fw${Date.now()}`, agent, problems: new Map(), counts, sioTransport: 'polling' };
const Client = CLIENTS[row];
const pairs = Array.from({ length: pairsN }, (_, i) => ({ a: new Client(opts, i, 'a'), b: new Client(opts, i, 'b'), n: 0 }));
for (const p of pairs) { await p.a.open(); await p.a.join(); }
for (const p of pairs) { await p.b.open(); await p.b.join(); }
await Promise.all(pairs.flatMap((p) => [p.a.partnerKnown, p.b.partnerKnown]));
const ticker = setInterval(() => { const now = performance.now(); for (const p of pairs) { p.a.tick(now); p.b.tick(now); } }, 100);
let delivered = 0;
for (const p of pairs) p.b.onData = (d) => { delivered++; p.b.send(d); };

/** Every A sends `n` signals, `windowN` in flight; resolves once every echo is back. */
function phase(n) {
  return new Promise((done) => {
    let active = pairs.length;
    for (const p of pairs) {
      let left = n;
      let inflight = 0;
      const send = () => { left--; inflight++; p.a.send(signalData(++p.n, 0, 0, 300)); };
      p.a.onData = () => { delivered++; inflight--; if (left > 0) send(); else if (inflight === 0 && --active === 0) done(); };
      for (let k = 0; k < windowN && left > 0; k++) send();
    }
  });
}

await phase(warmup);
await new Promise((r) => setTimeout(r, 300));
if (CG) { callgrind('-i=on'); callgrind('-z'); }
delivered = 0;
const requests0 = counts.requests;
const ticks0 = cpuTicks();
await phase(signals);
const ticks1 = cpuTicks();
let instructions;
if (CG) {
  callgrind('-i=off');
  callgrind('-d');
  const dump = readdirSync(CG).filter((f) => f.startsWith(`cg.${srv.pid}`)).sort().at(-1);
  instructions = Number(/^totals: (\d+)/m.exec(readFileSync(path.join(CG, dump), 'utf8'))[1]);
}
clearInterval(ticker);
console.log(JSON.stringify({
  row,
  signals: delivered,
  signalsPerRequest: counts.requests > requests0 ? +(delivered / (counts.requests - requests0)).toFixed(3) : undefined,
  cpuUsPerSignal: +(((ticks1 - ticks0) * 10_000) / delivered).toFixed(1),
  kInstructionsPerSignal: instructions ? +(instructions / delivered / 1000).toFixed(1) : undefined,
  problems: [...opts.problems],
}));
for (const p of pairs) { p.a.close(); p.b.close(); }
srv.send({ cmd: 'stop' });
await new Promise((r) => srv.once('exit', r));
process.exit(0);
