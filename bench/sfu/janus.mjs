// Janus VideoRoom (Debian's /usr/bin/janus), the anchor of bench/sfu (issue 15, Benchmark):
// started from a generated minimal configuration in a temporary folder (only the VideoRoom plugin
// and the plain HTTP transport on a free loopback port, a UDP RTP port range, no NAT/STUN, log
// level 2), driven through its HTTP API (a session, one handle per peer, events by long poll).
// Its CPU and memory are read from /proc/<pid>/stat and /proc/<pid>/status: it is another process.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';

const JANUS = process.env.JANUS_BIN ?? '/usr/bin/janus';
const MODULES = '/usr/lib/x86_64-linux-gnu/janus';
// JANUS_EVENT_LOOPS: a fixed number of event loop threads shared by every handle (Janus's
// general.event_loops); unset, Janus's default, a thread per handle.
const EVENT_LOOPS = Number(process.env.JANUS_EVENT_LOOPS ?? 0);
const CLK_TCK = 100; // USER_HZ on Linux (getconf CLK_TCK)

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** The address the node-datachannel peers gather their host candidates on (libjuice skips loopback). */
function hostAddress() {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** CPU time (user + system, every thread) of a process in µs, from /proc/<pid>/stat. */
export function processCpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // field 3 (state) is fields[0]
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK; // utime (14), stime (15)
}

/** Resident set size of a process in bytes, from /proc/<pid>/status. */
export function processRss(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function writeConfig(dir, httpPort, rtpPorts) {
  const plugins = join(dir, 'plugins');
  const transports = join(dir, 'transports');
  const empty = join(dir, 'empty');
  for (const d of [plugins, transports, empty]) mkdirSync(d);
  symlinkSync(join(MODULES, 'plugins/libjanus_videoroom.so'), join(plugins, 'libjanus_videoroom.so'));
  symlinkSync(join(MODULES, 'transports/libjanus_http.so'), join(transports, 'libjanus_http.so'));
  writeFileSync(join(dir, 'janus.jcfg'), `general: {
  configs_folder = "${dir}"
  plugins_folder = "${plugins}"
  transports_folder = "${transports}"
  events_folder = "${empty}"
  loggers_folder = "${empty}"
  debug_level = 2
  session_timeout = 120${EVENT_LOOPS ? `\n  event_loops = ${EVENT_LOOPS}` : ''}
}
media: {
  ipv6 = false
  rtp_port_range = "${rtpPorts}"
}
nat: {
  nice_debug = false
  ice_enforce_list = "${hostAddress()}"
}
`);
  writeFileSync(join(dir, 'janus.transport.http.jcfg'), `general: {
  json = "plain"
  base_path = "/janus"
  http = true
  port = ${httpPort}
  interface = "lo"
  https = false
}
admin: {
  admin_http = false
  admin_https = false
}
`);
  writeFileSync(join(dir, 'janus.plugin.videoroom.jcfg'), 'general: {\n}\n');
}

/**
 * Starts Janus and opens a session on its HTTP API. Returns the process id, the API calls the
 * bench needs and stop(), which kills Janus and removes the temporary folder (the log is kept
 * in memory for errors).
 */
export async function startJanus() {
  const dir = mkdtempSync(join(tmpdir(), 'janus-bench-'));
  const httpPort = await freePort();
  const rtpBase = 20000 + Math.floor(Math.random() * 400) * 100;
  writeConfig(dir, httpPort, `${rtpBase}-${rtpBase + 999}`);
  const logFile = join(dir, 'janus.log');
  const proc = spawn(JANUS, ['-F', dir, '-N', '-L', logFile, '-o'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  let exited = false;
  proc.on('exit', () => (exited = true));
  const log = () => [existsSync(logFile) ? readFileSync(logFile, 'utf8') : '', stderr].join('\n').slice(-4000);
  const base = `http://127.0.0.1:${httpPort}/janus`;
  let tx = 0;
  const post = async (path, body, transaction = `t${++tx}`) => {
    const res = await fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify({ ...body, transaction }) });
    const reply = await res.json();
    if (reply.janus === 'error') throw new Error(`janus ${body.janus}: ${reply.error?.reason}`);
    return { transaction, reply };
  };
  // Janus up: its HTTP transport answers.
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`janus exited at start:\n${log()}`);
    try {
      await fetch(`${base}/info`);
      break;
    } catch {
      if (i > 100) throw new Error(`janus HTTP API not up after 10 s:\n${log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const session = (await post('', { janus: 'create' })).reply.data.id;

  // Asynchronous replies come as events on the session's long poll, matched by transaction.
  const waiting = new Map();
  let polling = true;
  const aborter = new AbortController();
  const poll = async () => {
    while (polling) {
      try {
        const res = await fetch(`${base}/${session}?maxev=50&rid=${Date.now()}`, { signal: aborter.signal });
        const events = [].concat(await res.json());
        for (const e of events) {
          if (e.janus === 'event' && e.transaction && waiting.has(e.transaction)) {
            waiting.get(e.transaction)(e);
            waiting.delete(e.transaction);
          }
        }
      } catch {
        if (polling) await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const poller = poll();

  const attach = async () => (await post(`/${session}`, { janus: 'attach', plugin: 'janus.plugin.videoroom' })).reply.data.id;
  /** A VideoRoom request; synchronous ones reply at once, asynchronous ones with an event. */
  const message = async (handle, body, jsep) => {
    const transaction = `t${++tx}`;
    // Registered before the POST: the event can come before the reply.
    const eventFor = new Promise((resolve) => waiting.set(transaction, resolve));
    const { reply } = await post(`/${session}/${handle}`, { janus: 'message', body, ...(jsep ? { jsep } : {}) }, transaction);
    if (reply.janus === 'success') {
      waiting.delete(transaction);
      return reply;
    }
    const event = await Promise.race([
      eventFor,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`janus ${body.request}: no event in 30 s`)), 30_000)),
    ]);
    const data = event.plugindata?.data;
    if (data?.error) throw new Error(`janus ${body.request}: ${data.error}`);
    return event;
  };

  /** End of candidates: every candidate was in the SDP (the node-datachannel peers do not trickle). */
  const trickleDone = (handle) => post(`/${session}/${handle}`, { janus: 'trickle', candidate: { completed: true } });

  return {
    pid: proc.pid,
    log,
    attach,
    message,
    trickleDone,
    async stop() {
      polling = false;
      aborter.abort();
      try {
        await post(`/${session}`, { janus: 'destroy' });
      } catch {
        // already gone
      }
      await poller;
      if (!exited) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
        if (!exited) proc.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
