/** coturn for interop tests and as the external TURN server of the relay tests. */
import { coturnBinary } from './binaries.js';
import { startProcess } from './process.js';

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

/** Figures parsed from turnutils_uclient's closing summary. */
export interface UclientSummary {
  sent: number;
  received: number;
  lost: number;
  lossPercent: number;
}

export function parseUclient(output: string): UclientSummary | undefined {
  const totals = /tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$/m.exec(output);
  const loss = /Total lost packets (\d+) \(([\d.]+)%\)/.exec(output);
  if (!totals || !loss) return undefined;
  return { sent: Number(totals[1]), received: Number(totals[2]), lost: Number(loss[1]), lossPercent: Number(loss[2]) };
}
