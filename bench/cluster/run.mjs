#!/usr/bin/env node
/**
 * Cluster benchmark: hub nodes sharing one redis-server, one load generator.
 *
 *   node bench/cluster/run.mjs [--pairs 100] [--window 8] [--seconds 8] [--warmup 2] [--size 300]
 *        [--repeats 3] [--rows memory,1,2,3] [--no-write]
 *
 * Rows: `memory` (one node, no Redis: the reference), then 1, 2 and 3 nodes on Redis. With 2
 * and 3 nodes, A of every pair is on node i mod N and B on node i+1 mod N, so every signal and
 * its echo cross nodes. Each row gets a fresh redis-server and fresh node processes; rows run
 * interleaved `--repeats` times and the table shows medians. `npm run bench:cluster` builds
 * first (the nodes import @pinhole/server from packages/server/dist). Appends nothing by itself:
 * prints a Markdown table (and writes results.json here unless --no-write).
 */
import { fork, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLK_TCK = 100;

function parseArgs(argv) {
  const o = { pairs: 100, window: 8, seconds: 8, warmup: 2, size: 300, repeats: 3, rows: ['memory', '1', '2', '3'], write: true };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const val = () => inline ?? argv[++i];
    if (flag === '--no-write') o.write = false;
    else if (flag === '--rows') o.rows = val().split(',').map((s) => s.trim());
    else if (['--pairs', '--window', '--seconds', '--warmup', '--size', '--repeats'].includes(flag)) o[flag.slice(2)] = Number(val());
    else if (flag === '-h' || flag === '--help') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(2, 13).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown option ${argv[i]}`);
  }
  return o;
}

const opt = parseArgs(process.argv.slice(2));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function waitForPort(port) {
  for (let i = 0; i < 200; i++) {
    const open = await new Promise((resolve) => {
      const c = connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (open) return;
    await sleep(25);
  }
  throw new Error(`nothing listens on ${port}`);
}

/** user+sys CPU seconds of a process, from /proc. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

function child(file, args) {
  const proc = fork(path.join(HERE, file), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox = [];
  let waiter;
  proc.on('message', (m) => { inbox.push(m); waiter?.(); });
  const next = async () => {
    while (inbox.length === 0) await new Promise((r) => (waiter = r));
    const m = inbox.shift();
    if (m.ev === 'error') throw new Error(`${file}: ${m.error}`);
    return m;
  };
  return { proc, next, ask: async (msg) => { proc.send(msg); return next(); } };
}

async function runRow(row) {
  const clustered = row !== 'memory';
  const nodesCount = clustered ? Number(row) : 1;
  let redis;
  let redisUrl = 'memory';
  if (clustered) {
    const port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitForPort(port);
    redisUrl = `redis://127.0.0.1:${port}`;
  }
  const nodes = [];
  try {
    for (let i = 0; i < nodesCount; i++) {
      const n = child('node.mjs', [redisUrl, `bench-${i}`]);
      nodes.push({ ...n, port: (await n.next()).port });
    }
    const gen = child('gen.mjs', []);
    await gen.ask({ cmd: 'connect', ports: nodes.map((n) => n.port), pairs: opt.pairs, window: opt.window, size: opt.size, nonce: Math.random().toString(36).slice(2, 8) });
    await sleep(opt.warmup * 1000);
    const pids = { nodes: nodes.map((n) => n.proc.pid), redis: redis?.pid, gen: gen.proc.pid };
    const cpu0 = { nodes: pids.nodes.map(cpuSeconds), redis: redis ? cpuSeconds(redis.pid) : 0, gen: cpuSeconds(pids.gen) };
    await gen.ask({ cmd: 'measure' });
    await sleep(opt.seconds * 1000);
    const stopped = await gen.ask({ cmd: 'stop' });
    const cpu1 = { nodes: pids.nodes.map(cpuSeconds), redis: redis ? cpuSeconds(redis.pid) : 0, gen: cpuSeconds(pids.gen) };
    const drained = await gen.ask({ cmd: 'drain' });
    gen.proc.kill();
    const secs = stopped.seconds;
    const msgs = stopped.delivered / secs;
    const nodeCpu = cpu1.nodes.reduce((s, c, i) => s + c - cpu0.nodes[i], 0);
    return {
      row,
      msgs,
      p50: stopped.p50,
      p99: stopped.p99,
      max: stopped.max,
      lost: drained.lost,
      orderErrors: drained.orderErrors,
      problems: drained.problems,
      nodesCpuPct: (100 * nodeCpu) / secs,
      redisCpuPct: (100 * (cpu1.redis - cpu0.redis)) / secs,
      genCpuPct: (100 * (cpu1.gen - cpu0.gen)) / secs,
      nodeUsPerMsg: (nodeCpu * 1e6) / stopped.delivered,
    };
  } finally {
    for (const n of nodes) n.proc.kill();
    redis?.kill('SIGKILL');
    await sleep(300);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const runs = Object.fromEntries(opt.rows.map((r) => [r, []]));
for (let rep = 0; rep < opt.repeats; rep++) {
  for (const row of opt.rows) {
    const r = await runRow(row);
    runs[row].push(r);
    console.error(`rep ${rep + 1} ${row.padEnd(6)} ${Math.round(r.msgs).toLocaleString('en')} msgs/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, lost ${r.lost}, order ${r.orderErrors}, nodes CPU ${r.nodesCpuPct.toFixed(0)} %, redis CPU ${r.redisCpuPct.toFixed(0)} %, gen CPU ${r.genCpuPct.toFixed(0)} %${r.problems.length ? `, problems ${JSON.stringify(r.problems).slice(0, 200)}` : ''}`);
  }
}

const label = (row) => (row === 'memory' ? '1 node, memory (no --redis)' : `${row} node${row === '1' ? '' : 's'} on Redis${row === '1' ? '' : ', every signal crosses nodes'}`);
const fmt = (n, d = 0) => n.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d });
const lines = [
  `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores, redis-server ${spawnVersion()}; ${opt.pairs} pairs (${opt.pairs * 2} WebSockets), window ${opt.window}, ~${opt.size} B signals, warm-up ${opt.warmup} s, ${opt.seconds} s measured, median of ${opt.repeats} interleaved runs.`,
  '',
  '| row | msgs/s | p50 ms | p99 ms | lost | order err | hub nodes CPU % (sum) | hub µs/msg (sum) | redis CPU % | generator CPU % |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...opt.rows.map((row) => {
    const rs = runs[row];
    const m = (k) => median(rs.map((r) => r[k]));
    return `| ${label(row)} | ${fmt(m('msgs'))} | ${fmt(m('p50'), 2)} | ${fmt(m('p99'), 2)} | ${rs.reduce((s, r) => s + r.lost, 0)} | ${rs.reduce((s, r) => s + r.orderErrors, 0)} | ${fmt(m('nodesCpuPct'))} | ${fmt(m('nodeUsPerMsg'), 1)} | ${fmt(m('redisCpuPct'))} | ${fmt(m('genCpuPct'))} |`;
  }),
];
console.log(lines.join('\n'));
if (opt.write) writeFileSync(path.join(HERE, 'results.json'), JSON.stringify({ options: opt, runs }, null, 2));

function spawnVersion() {
  return /v=(\S+)/.exec(String(spawnSync('redis-server', ['--version']).stdout))?.[1] ?? '?';
}
