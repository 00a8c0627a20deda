import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { onPath } from './binaries.js';

/**
 * Absolute path of a coturn binary, or a loud failure: these tests must not skip silently.
 * CI installs coturn; locally run `apt-get install -y coturn`.
 */
export function coturnBinary(name: string): string {
  const found = onPath(name);
  if (found) return found;
  throw new Error(`${name} not found in PATH: install coturn (apt-get install -y coturn) to run the interop tests`);
}

/** A free UDP port on 127.0.0.1 (bound and released; good enough for a test peer). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Run a program to completion (or kill it at `timeoutMs`); stdout and stderr together. */
export function run(file: string, args: string[], timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Start a long-running program; the caller stops it with stop(). */
export function startProcess(file: string, args: string[]): { child: ChildProcess; output: () => string; stop(): Promise<void> } {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return {
    child,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('close', () => resolve());
        child.kill('SIGTERM');
      }),
  };
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
