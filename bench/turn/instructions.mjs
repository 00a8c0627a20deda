// Instructions per relayed packet, counted by valgrind's callgrind: a figure the load of a
// shared machine does not move, to drive work on the relay path before confirming with run.mjs.
// Each relay runs under callgrind with collection off; after a warm-up (so that V8 has optimised
// the path) collection is switched on, a fixed number of ChannelData packets is relayed in
// lockstep (each sent once the previous one reached the sink, so every packet is a wake-up of
// its own, whatever the load), and the counters are dumped: instructions / packets at the sink.
//   npm run bench:turn:instructions
// Env: ECHO=1 (the peer sends each packet back: the relay path both ways, counted per round
//      trip), PACKETS (default 2000), WARMUP (packets, default 5000), SIZE (payload, default 200),
//      TARGETS (subset of pinhole,coturn,forwarder; baseline with BASELINE=<another build's
//      packages/turn/dist/index.js>), KEEP=1 (keep the callgrind files in the
//      temp directory, for callgrind_annotate). User-space instructions only: the kernel's share
//      of each send and receive is not counted.
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTurn, importTurn } from './import-turn.mjs';
import { ask, startWorkers } from './load.mjs';
import { startCoturn, startForwarder, startPinhole } from './targets.mjs';

const SECRET = 'bench-secret';
const PACKETS = Number(process.env.PACKETS ?? 2000);
const SIZE = Number(process.env.SIZE ?? 200);
const ECHO = process.env.ECHO === '1';
const WARMUP_PACKETS = Number(process.env.WARMUP ?? 5000);

buildTurn();
const { turn } = await importTurn();

/** `callgrind_control <args> pid` (through vgdb, which reaches a relay blocked in epoll too). */
function control(args, pid) {
  return new Promise((resolve, reject) =>
    execFile('callgrind_control', [...args, String(pid)], (err) => (err ? reject(err) : resolve())),
  );
}

/**
 * Instructions (Ir) in the callgrind dumps written under `prefix`: in all threads, and in the
 * first (the event loop, where the data path runs; the others are V8's compiler and GC helpers
 * and libuv's pool).
 */
function dumpedInstructions(dir, prefix) {
  let total = 0;
  let main = 0;
  for (const file of readdirSync(dir).filter((f) => f.startsWith(prefix))) {
    const ir = Number(readFileSync(join(dir, file), 'utf8').match(/^totals: (\d+)/m)?.[1] ?? 0);
    total += ir;
    if (file.endsWith('-01')) main += ir;
  }
  return { total, main };
}

async function measure(name, mode, start) {
  const dir = tmpdir();
  const prefix = `bench-turn-callgrind-${process.pid}-${mode}-${name.replace(/\W+/g, '')}`;
  const out = join(dir, `${prefix}.out`);
  // Uninstrumented (fast) until the warm-up is over.
  const valgrind = ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${out}`];
  const server = await start(valgrind);
  const [worker] = await startWorkers(turn, SECRET, 1, mode, server.port, SIZE, ECHO);
  try {
    await ask(worker, { cmd: 'lockstep', count: WARMUP_PACKETS });
    await control(['--instr=on'], server.pid);
    const { result } = await ask(worker, { cmd: 'lockstep', count: PACKETS });
    await control(['--instr=off'], server.pid);
    const { received } = result;
    await server.stop();
    const { total, main } = dumpedInstructions(dir, prefix);
    const per = (n) => Math.round(n / received).toLocaleString('en-US').padStart(8);
    console.log(`${name.padEnd(28)} ${per(main)} on the event loop, ${per(total)} in all threads, per packet (${received} of ${PACKETS} packets arrived)`);
    return { main: main / received, total: total / received };
  } finally {
    await worker.terminate();
    await server.stop().catch(() => undefined);
    if (!process.env.KEEP) for (const f of readdirSync(dir).filter((f) => f.startsWith(prefix))) rmSync(join(dir, f));
  }
}

const all = {
  baseline: ['Pinhole TURN (baseline)', 'turn', (prefix) => startPinhole(SECRET, prefix, process.env.BASELINE)],
  pinhole: ['Pinhole TURN', 'turn', (prefix) => startPinhole(SECRET, prefix)],
  coturn: ['coturn turnserver', 'turn', (prefix) => startCoturn(SECRET, 'pinhole', prefix, 15000)],
  forwarder: ['bare Node dgram forwarder', 'raw', (prefix) => startForwarder(prefix)],
};
const wanted = (process.env.TARGETS ?? Object.keys(all).join(',')).split(',');
const path = ECHO ? 'client → peer and back (ECHO=1), per round trip' : 'client → peer';
console.log(`${SIZE} B payload, ${PACKETS} packets in lockstep after ${WARMUP_PACKETS} warm-up packets, ${path}, relay under callgrind:`);
for (const key of wanted) await measure(...all[key]);
