import { coturnBinary, startProcess } from './coturn.js';

/**
 * coturn's turnserver on 127.0.0.1 with TURN REST API auth (`use-auth-secret`), loopback peers
 * allowed, as in the architecture guide. `relayIp` another loopback address (127.0.0.2) makes
 * relayed candidates differ from client addresses, so only relay-to-relay paths get permissions.
 * Resolves once it answers on its port.
 */
export async function startCoturn(opts: { port: number; secret: string; realm: string; minPort: number; maxPort: number; pidFile: string; relayIp?: string }) {
  const binary = coturnBinary('turnserver');
  const proc = startProcess(binary, [
    '-n',
    '--no-cli',
    '--listening-ip=127.0.0.1',
    `--relay-ip=${opts.relayIp ?? '127.0.0.1'}`,
    `--listening-port=${opts.port}`,
    '--use-auth-secret',
    `--static-auth-secret=${opts.secret}`,
    `--realm=${opts.realm}`,
    '--fingerprint',
    '--no-tls',
    '--no-dtls',
    '--allow-loopback-peers',
    `--min-port=${opts.minPort}`,
    `--max-port=${opts.maxPort}`,
    '--log-file=stdout',
    '--simple-log',
    `--pidfile=${opts.pidFile}`,
  ]);
  const deadline = Date.now() + 10_000;
  while (!/Total General servers|IO method/.test(proc.output())) {
    if (proc.child.exitCode !== null) throw new Error(`turnserver exited: ${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`turnserver did not start: ${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 300));
  return proc;
}
