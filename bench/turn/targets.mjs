// The three relays under test, each in its own process on 127.0.0.1. Each start function takes
// a command prefix to run the relay under: `taskset -c N` (run.mjs pins the relay to one core)
// or `valgrind --tool=callgrind …` (instructions.mjs counts instructions per packet).
import { fork, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const here = (file) => new URL(file, import.meta.url);

/** Fork a Node script under `prefix` (fork runs execPath with execArgv before the script). */
async function forked(file, args, prefix, env = process.env) {
  const [wrapper, ...wrapperArgs] = prefix;
  const child = fork(here(file), args, {
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    ...(wrapper && { execPath: wrapper, execArgv: [...wrapperArgs, process.execPath] }),
  });
  const [msg] = await once(child, 'message');
  return {
    port: msg.port,
    pid: child.pid,
    stop: async () => {
      child.send('stop');
      await once(child, 'exit');
    },
  };
}

async function freeUdpPort() {
  const s = createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** `baselineDist`: run that build of packages/turn (its dist/index.js) instead of this one. */
export function startPinhole(secret, prefix = [], baselineDist = undefined) {
  const { BASELINE_TURN_DIST: _, ...env } = process.env;
  return forked('./pinhole-server.mjs', [secret, '44000', '44999'], prefix, baselineDist ? { ...env, BASELINE_TURN_DIST: baselineDist } : env);
}

export function startForwarder(prefix = []) {
  return forked('./forwarder.mjs', [], prefix);
}

/** coturn as the architecture guide starts it (use-auth-secret, loopback peers allowed). */
export async function startCoturn(secret, realm, prefix = [], startupMs = 1500) {
  const port = await freeUdpPort();
  const [command, ...args] = [
    ...prefix,
    'turnserver',
    '-n', '--no-cli', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
    '--use-auth-secret', `--static-auth-secret=${secret}`, `--realm=${realm}`, '--fingerprint',
    '--no-tls', '--no-dtls', '--allow-loopback-peers', '--min-port=45000', '--max-port=45999',
    '--log-file=stdout', '--simple-log', '--no-stdout-log', `--pidfile=${join(tmpdir(), `bench-coturn-${port}.pid`)}`,
  ];
  const child = spawn(command, args, { stdio: 'ignore' });
  const failed = once(child, 'error').then(([err]) => {
    throw new Error(`cannot start ${command} (apt-get install -y coturn): ${err.message}`);
  });
  await Promise.race([new Promise((r) => setTimeout(r, startupMs)), failed]);
  if (child.exitCode !== null) throw new Error('turnserver exited at start');
  return {
    port,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
