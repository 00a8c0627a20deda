#!/usr/bin/env node
/**
 * Signaling benchmark: one load generator, several servers, one run.
 *
 *   node bench/signaling/run.mjs [--pairs 200] [--seconds 10] [--warmup 2] [--window 8]
 *        [--size 300] [--generators 1] [--only hub,peer,socketio,bare,...] [--no-write]
 *        [--sio-client raw|official] [--hub <module|path>] [--hub-snapshot] [--budget 170]
 *        [--server-prof DIR]   (V8 CPU profile of each server process, for profiling)
 *
 * The hub is imported as `@pinhole/server` (packages/server/dist: run `npm run build` first, or
 * `npm run bench:signaling`). `--hub-snapshot` instead compiles packages/server/src with tsc into
 * bench/signaling/.hub-build (private, gitignored) and benchmarks that.
 *
 * Every server runs in its own child process (server-child.mjs), the load generator in one or
 * more other child processes (gen-child.mjs); this process only orchestrates, samples
 * /proc/<pid> for RSS and CPU, and writes RESULTS.md + results.json next to this file.
 * Rows run one after another; each row gets a fresh server process.
 */
import { execFileSync, fork } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync, createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Histogram } from './lib/histogram.mjs';
import { makeData } from './lib/payload.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const HOST = '127.0.0.1';
const CLK_TCK = 100; // getconf CLK_TCK on Linux x86-64

// ------------------------------------------------------------------------------ options

const ROWS = [
  { name: 'hub-ws', server: 'hub', group: 'hub' },
  { name: 'hub-sse', server: 'hub', group: 'hub' },
  { name: 'hub-poll', server: 'hub', group: 'hub' },
  { name: 'peer', server: 'peer', group: 'peer' },
  { name: 'socket.io', server: 'socketio', group: 'socketio' },
  { name: 'socket.io polling', server: 'socketio', group: 'socketio' },
  { name: 'bare-ws', server: 'bare', group: 'bare' },
  // The bare forwarder saturates one generator process before it saturates itself: the same
  // row again with the pairs split over two generators shows where the limit really is.
  { name: 'bare-ws 2gen', server: 'bare', group: 'bare', client: 'bare-ws', generators: 2 },
];

function parseArgs(argv) {
  const o = { pairs: 200, seconds: 10, warmup: 2, window: 8, size: 300, generators: 1, only: null, write: true, sioClient: 'raw', hub: '@pinhole/server', hubSnapshot: false, budget: 170, serverProf: null };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const val = () => inline ?? argv[++i];
    switch (flag) {
      case '--pairs': o.pairs = Number(val()); break;
      case '--seconds': o.seconds = Number(val()); break;
      case '--warmup': o.warmup = Number(val()); break;
      case '--window': o.window = Number(val()); break;
      case '--size': o.size = Number(val()); break;
      case '--generators': o.generators = Number(val()); break;
      case '--only': o.only = val().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--no-write': o.write = false; break;
      case '--sio-client': o.sioClient = val(); break;
      case '--hub': o.hub = val(); break;
      case '--hub-snapshot': o.hubSnapshot = true; break;
      case '--budget': o.budget = Number(val()); break;
      case '--server-prof': o.serverProf = path.resolve(val()); break;
      case '-h': case '--help':
        console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(2, 12).join('\n'));
        console.log(`rows: ${ROWS.map((r) => r.name).join(', ')}; groups: hub, peer, socketio, bare`);
        process.exit(0);
        break;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  if (o.warmup < 2) throw new Error('--warmup must be ≥ 2 s');
  for (const k of ['pairs', 'seconds', 'window', 'size', 'generators']) if (!(o[k] > 0)) throw new Error(`--${k} must be > 0`);
  return o;
}

const opt = parseArgs(process.argv.slice(2));
const rows = opt.only ? ROWS.filter((r) => opt.only.some((t) => t === r.name || t === r.group)) : ROWS;
if (rows.length === 0) throw new Error(`--only matched no row (rows: ${ROWS.map((r) => r.name).join(', ')})`);

// ------------------------------------------------------------------------------ child processes

const children = new Set();
function killAll() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { killAll(); process.exit(130); });
process.on('uncaughtException', (err) => { console.error(err); killAll(); process.exit(1); });
process.on('unhandledRejection', (err) => { console.error(err); killAll(); process.exit(1); });

const LOGDIR = path.join(HERE, 'logs');
mkdirSync(LOGDIR, { recursive: true });

function spawnChild(file, args, logName) {
  // --server-prof DIR: a V8 CPU profile of every server process, written when it exits.
  const prof = opt.serverProf && file === 'server-child.mjs' ? ['--cpu-prof', `--cpu-prof-dir=${opt.serverProf}`] : [];
  const child = fork(path.join(HERE, file), args, {
    execArgv: ['--expose-gc', ...prof],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production', PINHOLE_HUB_MODULE: hubModule ?? '' },
  });
  children.add(child);
  const log = createWriteStream(path.join(LOGDIR, logName));
  child.logLines = 0;
  child.logTail = [];
  const onData = (chunk) => {
    log.write(chunk);
    for (const line of String(chunk).split('\n')) {
      if (!line.trim()) continue;
      child.logLines++;
      if (child.logTail.length < 20) child.logTail.push(line.slice(0, 400));
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.on('exit', () => { children.delete(child); log.end(); });
  child.queue = [];
  child.waiters = [];
  child.on('message', (m) => { const w = child.waiters.shift(); if (w) w(m); else child.queue.push(m); });
  child.on('exit', (code, sig) => { for (const w of child.waiters.splice(0)) w({ ev: 'exit', code, sig }); });
  return child;
}

function nextMessage(child, ms, what) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    const done = (m) => {
      clearTimeout(t);
      if (m.ev === 'error' || m.ev === 'failed') reject(Object.assign(new Error(`${what}: ${m.error}`), { problems: m.problems }));
      else if (m.ev === 'exit') reject(new Error(`${what}: child exited (${m.code ?? m.sig}); log tail: ${child.logTail.slice(-5).join(' | ')}`));
      else resolve(m);
    };
    if (child.queue.length) done(child.queue.shift());
    else if (child.exitCode !== null || child.signalCode !== null) done({ ev: 'exit', code: child.exitCode, sig: child.signalCode });
    else child.waiters.push(done);
  });
}

function call(child, msg, ms = 30_000) {
  child.send(msg);
  return nextMessage(child, ms, `${msg.cmd}`);
}

async function stopChild(child, graceful) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  if (graceful) { try { child.send({ cmd: 'stop' }); } catch { /* ipc closed */ } }
  const t = setTimeout(() => child.kill('SIGKILL'), graceful ? 3000 : 0);
  await exited;
  clearTimeout(t);
}

// ------------------------------------------------------------------------------ /proc sampling

function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Machine-wide CPU ticks from /proc/stat: busy (everything but idle/iowait) and steal. */
function machineTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f; // idle and iowait are not busy time
  return { busy: user + nice + system + irq + softirq, steal: steal ?? 0 };
}

// ------------------------------------------------------------------------------ one row

async function runRow(row, nonce) {
  const res = { row: row.name, ok: false, notes: [] };
  const safe = row.name.replace(/[^a-z0-9]+/gi, '-');
  let server;
  const gens = [];
  try {
    if (row.server === 'hub' && hubProblem) throw new Error(hubProblem);
    server = spawnChild('server-child.mjs', [row.server], `${safe}.server.log`);
    const ready = await nextMessage(server, 30_000, `${row.name} server start`);
    const port = ready.port;
    await sleep(300);
    res.heapBefore = (await call(server, { cmd: 'gc' })).heapUsed;
    await sleep(200);
    const rssBefore = rssBytes(server.pid);

    // Split pairs across generator processes; both ends of a pair stay in the same process.
    const nGen = row.generators ?? opt.generators;
    const per = Math.ceil(opt.pairs / nGen);
    for (let g = 0; g < nGen; g++) {
      const from = g * per;
      const to = Math.min(opt.pairs, from + per);
      if (from >= to) break;
      const gen = spawnChild('gen-child.mjs', [], `${safe}.gen${g}.log`);
      gens.push(gen);
      await call(gen, { cmd: 'init', row: row.client ?? row.name, host: HOST, port, pairFrom: from, pairTo: to, window: opt.window, size: opt.size, nonce, sioClient: opt.sioClient });
    }
    const connected = await Promise.all(gens.map((g) => call(g, { cmd: 'connect' }, 90_000)));
    const endpoints = connected.reduce((s, c) => s + c.endpoints, 0);
    res.connectMs = Math.max(...connected.map((c) => c.ms));
    res.wsExtensions = connected[0].extensions;

    await sleep(1000);
    res.heapIdle = (await call(server, { cmd: 'gc' })).heapUsed;
    await sleep(300);
    const rssIdle = rssBytes(server.pid);
    res.endpoints = endpoints;
    res.rssBefore = rssBefore;
    res.rssIdle = rssIdle;
    res.idleBytesPerConn = (rssIdle - rssBefore) / endpoints;

    await Promise.all(gens.map((g) => call(g, { cmd: 'start' })));
    await sleep(opt.warmup * 1000);

    await Promise.all(gens.map((g) => call(g, { cmd: 'measure' })));
    const t0 = performance.now();
    const srvTicks0 = cpuTicks(server.pid);
    const genTicks0 = gens.map((g) => cpuTicks(g.pid));
    const mach0 = machineTicks();
    let rssPeak = 0;
    let rssSum = 0;
    let rssN = 0;
    let midMetrics;
    if (row.server === 'hub') setTimeout(async () => { midMetrics = await fetchText(port, '/metrics'); }, (opt.seconds * 1000) / 2);
    while (performance.now() - t0 < opt.seconds * 1000) {
      await sleep(Math.min(250, opt.seconds * 1000 - (performance.now() - t0)));
      const r = rssBytes(server.pid);
      rssPeak = Math.max(rssPeak, r);
      rssSum += r;
      rssN++;
    }
    const srvTicks1 = cpuTicks(server.pid);
    const genTicks1 = gens.map((g) => cpuTicks(g.pid));
    const mach1 = machineTicks();
    const wall = (performance.now() - t0) / 1000;
    const stopped = await Promise.all(gens.map((g) => call(g, { cmd: 'stop' })));

    const hist = new Histogram();
    for (const s of stopped) hist.addSparse(s.hist);
    res.msgsPerSec = stopped.reduce((s, x) => s + x.delivered / x.seconds, 0);
    res.p50 = hist.quantile(0.5);
    res.p99 = hist.quantile(0.99);
    res.max = hist.max;
    res.samples = hist.total;
    res.rssLoadPeak = rssPeak;
    res.rssLoadAvg = rssSum / rssN;
    res.serverCpu = ((srvTicks1 - srvTicks0) / CLK_TCK / wall) * 100;
    // Server CPU time per delivered signal: much less sensitive to other load on the machine than msgs/s.
    res.cpuUsPerMsg = (res.serverCpu / 100) * 1e6 / res.msgsPerSec;
    res.genCpu = genTicks1.map((t, i) => ((t - genTicks0[i]) / CLK_TCK / wall) * 100);
    res.genElu = stopped.map((s) => s.elu);
    // HTTP transports: how many signals one request carried (batching differs with speed).
    const requests = stopped.reduce((s, x) => s + x.requests, 0);
    res.msgsPerRequest = requests > 0 ? stopped.reduce((s, x) => s + x.delivered, 0) / requests : undefined;
    // CPU used by anything else on the machine during the window (other engineers' builds/tests).
    const ours = srvTicks1 - srvTicks0 + genTicks1.reduce((s, t, i) => s + t - genTicks0[i], 0);
    res.foreignCpu = ((mach1.busy - mach0.busy - ours) / CLK_TCK / wall) * 100;
    res.stealCpu = ((mach1.steal - mach0.steal) / CLK_TCK / wall) * 100;

    const drained = await Promise.all(gens.map((g) => call(g, { cmd: 'drain' }, 20_000)));
    res.sent = drained.reduce((s, d) => s + d.sent, 0);
    res.received = drained.reduce((s, d) => s + d.received, 0);
    res.lost = res.sent - res.received;
    res.orderErrors = drained.reduce((s, d) => s + d.orderErrors, 0);
    res.problems = mergeProblems(drained.map((d) => d.problems));

    // Same clients, still connected, traffic over and acknowledged: what does the server keep?
    await sleep(300);
    res.heapAfterTraffic = (await call(server, { cmd: 'gc' })).heapUsed;
    if (row.server === 'hub') {
      const after = await fetchText(port, '/metrics');
      writeFileSync(path.join(LOGDIR, `${safe}.metrics.txt`), `# --- mid-window\n${midMetrics ?? '(none)'}\n# --- after drain\n${after ?? '(none)'}`);
      res.hubMid = pickMetrics(midMetrics);
      res.hubAfter = pickMetrics(after);
    }
    await Promise.all(gens.map((g) => call(g, { cmd: 'close' }).catch(() => {})));
    await sleep(500);
    res.heapAfterClose = (await call(server, { cmd: 'gc' })).heapUsed;
    res.rssAfterClose = rssBytes(server.pid);
    res.ok = true;
  } catch (err) {
    res.error = String(err.message || err).slice(0, 800);
    if (err.problems) res.problems = mergeProblems([err.problems]);
  } finally {
    await Promise.all(gens.map((g) => stopChild(g, false)));
    if (server) {
      res.serverLogLines = server.logLines;
      res.serverLogTail = server.logTail;
      await stopChild(server, true);
    }
  }
  return res;
}

/** The hub's own gauges worth quoting (replay buffers, sessions, errors). */
function pickMetrics(text) {
  if (!text) return null;
  const keep = /^(pinhole_(replay_buffer_frames|replay_buffer_max_frames|sessions|sessions_detached|errors_total\S*|connections\S*)|process_resident_memory_bytes|nodejs_heap_size_used_bytes) /;
  return Object.fromEntries(text.split('\n').filter((l) => keep.test(l)).map((l) => { const i = l.lastIndexOf(' '); return [l.slice(0, i), Number(l.slice(i + 1))]; }));
}

function mergeProblems(lists) {
  const m = new Map();
  for (const list of lists) for (const [k, v] of list ?? []) m.set(k, (m.get(k) ?? 0) + v);
  return [...m].sort((a, b) => b[1] - a[1]);
}

async function fetchText(port, p) {
  try {
    const r = await fetch(`http://${HOST}:${port}${p}`, { signal: AbortSignal.timeout(3000) });
    return r.ok ? await r.text() : null;
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------------------ report

const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');
const mb = (b) => fmt(b / 1048576, 1);

function table(results) {
  const head = ['target', 'msgs/s delivered', 'p50 ms', 'p99 ms', 'max ms', 'lost', 'order err', 'problems', 'server RSS load (peak) MB', 'idle KB/conn', 'server CPU %', 'server CPU µs/msg', 'gen CPU %', 'gen ELU', 'other CPU %'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of results) {
    if (!r.ok) {
      lines.push(`| ${r.row} | failed: ${String(r.error).replace(/\|/g, '/').replace(/\n/g, ' ').slice(0, 200)} |${' |'.repeat(head.length - 2)}`);
      continue;
    }
    const probs = r.problems.reduce((s, [, n]) => s + n, 0);
    lines.push(`| ${r.row} | ${fmt(r.msgsPerSec)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.max, 1)} | ${fmt(r.lost)} | ${fmt(r.orderErrors)} | ${fmt(probs)} | ${mb(r.rssLoadPeak)} | ${fmt(r.idleBytesPerConn / 1024, 1)} | ${fmt(r.serverCpu)} | ${fmt(r.cpuUsPerMsg, 1)} | ${r.genCpu.map((c) => fmt(c)).join('+')} | ${r.genElu.map((e) => fmt(e, 2)).join('+')} | ${fmt(Math.max(0, r.foreignCpu))} |`);
  }
  return lines.join('\n');
}

function ratios(results) {
  const by = Object.fromEntries(results.filter((r) => r.ok).map((r) => [r.row, r]));
  // Against the limit, compare with the faster of the bare-ws rows (1 or 2 generators).
  const bare = ['bare-ws', 'bare-ws 2gen'].map((n) => by[n]).filter(Boolean).sort((x, y) => y.msgsPerSec - x.msgsPerSec)[0];
  const cmp = [['hub-ws', 'peer'], ['hub-ws', 'socket.io'], ['hub-ws', bare?.row ?? 'bare-ws'], ['hub-sse', 'socket.io polling'], ['hub-poll', 'socket.io polling']];
  const lines = ['| ratio | msgs/s | p50 | p99 | RSS under load | idle mem/conn | server CPU/msg |', '|---|---:|---:|---:|---:|---:|---:|'];
  let any = false;
  for (const [a, b] of cmp) {
    const x = by[a];
    const y = by[b];
    if (!x || !y) continue;
    any = true;
    const q = (u, v) => (Number.isFinite(u / v) ? `${fmt(u / v, 2)}×` : '–');
    lines.push(`| ${a} / ${b} | ${q(x.msgsPerSec, y.msgsPerSec)} | ${q(x.p50, y.p50)} | ${q(x.p99, y.p99)} | ${q(x.rssLoadPeak, y.rssLoadPeak)} | ${q(x.idleBytesPerConn, y.idleBytesPerConn)} | ${q(x.cpuUsPerMsg, y.cpuUsPerMsg)} |`);
  }
  const legend = 'msgs/s: > 1 means the hub delivered more. Latency, memory and CPU/msg: > 1 means the hub is slower / uses more.';
  return any ? `${lines.join('\n')}\n\n${legend}` : '_(no pair of rows to compare in this run)_';
}

function notes(results) {
  const out = [];
  for (const r of results) {
    const bits = [];
    if (r.ok) {
      bits.push(`${r.endpoints} endpoints connected in ${fmt(r.connectMs)} ms`);
      bits.push(`RSS before ${mb(r.rssBefore)} MB → idle ${mb(r.rssIdle)} MB → load peak ${mb(r.rssLoadPeak)} (avg ${mb(r.rssLoadAvg)}) → after clients closed ${mb(r.rssAfterClose)} MB`);
      bits.push(`heap used after GC: before ${mb(r.heapBefore)} MB, idle ${mb(r.heapIdle)} MB (${fmt((r.heapIdle - r.heapBefore) / r.endpoints / 1024, 1)} KB/conn), after the traffic with the same clients still connected and idle ${mb(r.heapAfterTraffic)} MB (${fmt((r.heapAfterTraffic - r.heapIdle) / r.endpoints / 1024, 1)} KB/conn more than before the traffic), after clients closed ${mb(r.heapAfterClose)} MB`);
      if (r.hubMid) bits.push(`hub /metrics mid-window: ${Object.entries(r.hubMid).map(([k, v]) => `${k}=${v}`).join(', ')}`);
      bits.push(`sent ${fmt(r.sent)}, received ${fmt(r.received)}, latency samples ${fmt(r.samples)}`);
      if (r.msgsPerRequest !== undefined) bits.push(`${fmt(r.msgsPerRequest, 2)} signals delivered per HTTP request the clients made (POSTs and GETs)`);
      if (r.wsExtensions !== null && r.wsExtensions !== undefined) bits.push(`WebSocket extensions negotiated: ${r.wsExtensions || 'none'}`);
      const busy = r.genElu.some((e) => e > 0.9) || r.genCpu.some((c) => c > 90);
      if (busy) bits.push('**generator saturated** (ELU > 0.9 or CPU > 90 %): this row measures generator+server together, not the server alone');
      if (r.serverCpu > 90) bits.push('server CPU-bound (> 90 % of one core)');
      if (r.foreignCpu > 15) bits.push(`**noisy**: other processes used ${fmt(r.foreignCpu)} % CPU during the window (steal ${fmt(r.stealCpu)} %)`);
    }
    if (r.problems?.length) bits.push(`client-side problems: ${r.problems.map(([k, n]) => `${n}× ${k}`).join('; ')}`);
    if (r.serverLogLines) bits.push(`server wrote ${r.serverLogLines} log lines (first: ${r.serverLogTail.slice(0, 3).map((l) => '`' + l.slice(0, 200).replace(/`/g, "'") + '`').join(', ')})`);
    if (r.attempts > 1) bits.push(`measured ${r.attempts}× because of other load; the quietest attempt is shown`);
    out.push(`- **${r.row}**: ${bits.join('; ')}`);
  }
  return out.join('\n');
}

// ------------------------------------------------------------------------------ hub module

let hubModule;
let hubProblem;
if (rows.some((r) => r.server === 'hub')) {
  try {
    if (opt.hubSnapshot) {
      const root = path.resolve(HERE, '../..');
      const out = path.join(HERE, '.hub-build');
      execFileSync(path.join(root, 'node_modules/.bin/tsc'), ['-p', path.join(root, 'packages/server/tsconfig.build.json'), '--outDir', out, '--declaration', 'false', '--sourceMap', 'false'], { stdio: 'pipe' });
      hubModule = pathToFileURL(path.join(out, 'index.js')).href;
    } else if (opt.hub.startsWith('.') || opt.hub.startsWith('/')) {
      const p = path.resolve(opt.hub);
      hubModule = pathToFileURL(existsSync(path.join(p, 'index.js')) ? path.join(p, 'index.js') : p).href;
    } else {
      hubModule = import.meta.resolve(opt.hub);
    }
    if (!existsSync(fileURLToPath(hubModule))) throw new Error(`${hubModule} does not exist`);
  } catch (err) {
    hubProblem = `hub not available (${String(err.stdout || err.message).trim().slice(0, 300)}): run \`npm run build\` or pass --hub-snapshot`;
  }
}

function gitInfo() {
  try {
    const root = path.resolve(HERE, '../..');
    const head = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'packages/server', 'packages/protocol'], { encoding: 'utf8' }).trim();
    return ` (repo HEAD ${head}${dirty ? ', packages/server or packages/protocol have uncommitted changes' : ''})`;
  } catch {
    return '';
  }
}

// ------------------------------------------------------------------------------ main

const cpuModel = (/model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8')) ?? [])[1] ?? os.cpus()[0]?.model ?? 'unknown';
const cores = os.availableParallelism?.() ?? os.cpus().length;
const started = new Date();
const nonce = started.getTime().toString(36);
const header = [
  `Date: ${started.toISOString()}`,
  `Node: ${process.version}; CPU: ${cpuModel}; cores: ${cores} (${os.cpus().length} logical CPUs in /proc/cpuinfo)`,
  `Workload: ${opt.pairs} pairs (${opt.pairs * 2} connections), window ${opt.window} signals in flight per pair, ~${JSON.stringify(makeData(10000, 12345.678901234, 12345.678901234, opt.size)).length}-byte signal payload (JSON of the data field), warm-up ${opt.warmup} s, measurement ${opt.seconds} s, ${opt.generators} generator process(es) per row${rows.some((r) => r.generators) ? ` (rows named "2gen": 2)` : ''}`,
  ...(hubModule ? [`Hub: ${hubModule.replace(pathToFileURL(path.resolve(HERE, '../..')).href + '/', '')}${gitInfo()}`] : []),
  `Processes: each server in its own child process, generator(s) in other child process(es), all on ${cores} cores shared — server and generator compete for CPU.`,
];
console.log(header.join('\n'));
console.log(`rows: ${rows.map((r) => r.name).join(', ')}`);
if (hubModule && !hubProblem) console.log(`hub module: ${hubModule}`);
console.log('');

const results = [];
const runStart = performance.now();
let attemptNo = 0;
const rowTimes = [];
async function attempt(row) {
  const t = performance.now();
  process.stdout.write(`${row.name.padEnd(18)} … `);
  const r = await runRow(row, `${nonce}${attemptNo++}`);
  rowTimes.push((performance.now() - t) / 1000);
  console.log(r.ok
    ? `${fmt(r.msgsPerSec)} msgs/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, lost ${r.lost}, RSS ${mb(r.rssLoadPeak)} MB, idle ${fmt(r.idleBytesPerConn / 1024, 1)} KB/conn, srv CPU ${fmt(r.serverCpu)} % (${fmt(r.cpuUsPerMsg, 1)} µs/msg), gen CPU ${r.genCpu.map((c) => fmt(c)).join('+')} %, other CPU ${fmt(Math.max(0, r.foreignCpu))} % (${fmt((performance.now() - t) / 1000, 1)} s)`
    : `FAILED: ${r.error}`);
  return r;
}
for (const row of rows) {
  const r = await attempt(row);
  r.attempts = 1;
  results.push(r);
}

// Other work on this machine (a shared checkout) can steal a core for seconds at a time. While
// the time budget allows, measure the noisiest row again and keep the quieter of the two attempts.
const NOISY = 25;
const budget = opt.budget * 1000;
for (;;) {
  const est = Math.max(...rowTimes) * 1000;
  const noisiest = results.filter((r) => r.ok && r.foreignCpu > NOISY && r.attempts < 3).sort((a, b) => a.attempts - b.attempts || b.foreignCpu - a.foreignCpu)[0];
  if (!noisiest || performance.now() - runStart + est > budget) break;
  const row = rows.find((x) => x.name === noisiest.row);
  process.stdout.write('(re-run, was noisy) ');
  const again = await attempt(row);
  const i = results.indexOf(noisiest);
  again.attempts = noisiest.attempts + 1;
  if (again.ok && again.foreignCpu < noisiest.foreignCpu) results[i] = again;
  else noisiest.attempts = again.attempts;
}

const md = [
  '# Signaling benchmark results',
  '',
  ...header.map((h) => `${h}  `),
  '',
  'Latency is one-way: both ends of a pair live in the same generator process, so each receiver subtracts the sender\'s `performance.now()` stamp. ' +
    'msgs/s counts every delivered signal in both directions (A→B and the echo B→A). "lost" = sent − received after a drain of ≤ 10 s. ' +
    '"idle KB/conn" = (server RSS with all clients connected and idle − RSS before any client) / connections, after a forced GC. ' +
    '"server CPU µs/msg" = server CPU time (user+sys) / delivered signals — the figure least disturbed by other load on the machine. ' +
    '"gen ELU" is the generator\'s event-loop utilisation during the window (≈1 means the generator was the bottleneck). ' +
    '"other CPU %" is what everything else on the machine used meanwhile (100 % = one core): other work in this shared checkout skews rows where it is high.',
  '',
  table(results),
  '',
  '## Ratios',
  '',
  ratios(results),
  '',
  '## Notes per row',
  '',
  notes(results),
  '',
  `Command: \`node bench/signaling/run.mjs ${process.argv.slice(2).join(' ')}\``.replace(/ `$/, '`'),
  '',
].join('\n');

console.log(`\n${table(results)}\n\n${ratios(results)}\n\n${notes(results)}`);
if (opt.write) {
  writeFileSync(path.join(HERE, 'RESULTS.md'), md);
  writeFileSync(path.join(HERE, 'results.json'), JSON.stringify({ options: opt, header, results }, null, 2));
  console.log(`\nwrote ${path.join(HERE, 'RESULTS.md')}`);
}
killAll();
process.exit(results.every((r) => r.ok) ? 0 : 1);
