/**
 * coturn's own clients (turnutils_stunclient, turnutils_uclient, turnutils_peer) against our
 * server. Requires the Debian `coturn` package; fails loudly without it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TurnServer } from '../src/index.js';
import { coturnBinary } from '@pinhole/test-kit/binaries';
import { freeUdpPort } from '@pinhole/test-kit/ports';
import { parseUclient } from '@pinhole/test-kit/coturn';
import { run, startProcess } from '@pinhole/test-kit/process';
import { creds, startTestServer } from '@pinhole/test-kit/turn-server';

let server: TurnServer;
let peer: ReturnType<typeof startProcess>;
let peerPort: number;
let stunclient: string;
let uclient: string;

beforeAll(async () => {
  stunclient = coturnBinary('turnutils_stunclient');
  uclient = coturnBinary('turnutils_uclient');
  const peerBinary = coturnBinary('turnutils_peer');
  server = await startTestServer();
  peerPort = await freeUdpPort();
  peer = startProcess(peerBinary, ['-L', '127.0.0.1', '-p', String(peerPort)]);
  await new Promise((r) => setTimeout(r, 200));
  expect(peer.child.exitCode, `turnutils_peer exited: ${peer.output()}`).toBeNull();
});

afterAll(async () => {
  await peer?.stop();
  await server?.close();
});

describe('coturn clients against our server', () => {
  it('turnutils_stunclient gets its reflexive address from a Binding request', async () => {
    const { code, output } = await run(stunclient, ['-p', String(server.ports.udp), '127.0.0.1']);
    expect(code, output).toBe(0);
    expect(output).toMatch(/UDP reflexive addr: 127\.0\.0\.1:\d+/);
  });

  type Case = { name: string; flags: string[]; port: () => number };
  const cases: Case[] = [
    { name: 'UDP, ChannelData', flags: [], port: () => server.ports.udp },
    { name: 'UDP, Send/Data indications (-s)', flags: ['-s'], port: () => server.ports.udp },
    { name: 'UDP, client to client through two allocations (-y)', flags: ['-y'], port: () => server.ports.udp },
    { name: 'TCP, ChannelData (-t)', flags: ['-t'], port: () => server.ports.tcp },
    { name: 'TCP, Send/Data indications (-t -s)', flags: ['-t', '-s'], port: () => server.ports.tcp },
    { name: 'TCP, odd-sized padded ChannelData (-t -D -l 121)', flags: ['-t', '-D', '-l', '121'], port: () => server.ports.tcp },
    { name: 'TLS, ChannelData (-t -S)', flags: ['-t', '-S'], port: () => server.ports.tls ?? 0 },
  ];

  it.concurrent.each(cases)('turnutils_uclient relays with 0% loss: $name', async ({ flags, port }) => {
    const { username, password } = creds('uclient');
    const args = ['-l', '120', '-n', '50', '-m', '2', '-e', '127.0.0.1', '-r', String(peerPort), '-u', username, '-w', password, '-p', String(port()), ...flags, '127.0.0.1'];
    const { code, output } = await run(uclient, args);
    const summary = parseUclient(output);
    expect(summary, output).toBeDefined();
    expect(code, output).toBe(0);
    expect(summary?.lossPercent, output).toBe(0);
    expect(summary?.lost, output).toBe(0);
    expect(summary?.sent, output).toBeGreaterThanOrEqual(100);
    expect(summary?.received, output).toBe(summary?.sent);
  });

  it('turnutils_uclient with a wrong password is refused and creates no allocation', async () => {
    const before = server.stats();
    const { username } = creds('mallory');
    const args = ['-n', '5', '-m', '1', '-e', '127.0.0.1', '-r', String(peerPort), '-u', username, '-w', 'not-the-password', '-p', String(server.ports.udp), '127.0.0.1'];
    const { code, output } = await run(uclient, args);
    expect(code, output).not.toBe(0);
    expect(output).toMatch(/Cannot complete Allocation/);
    const after = server.stats();
    expect(after.authFailures).toBeGreaterThan(before.authFailures);
    expect(after.allocationsCreated).toBe(before.allocationsCreated);
  });

  it('turnutils_uclient asking for DONT-FRAGMENT (-g) gets 420: Node cannot set the DF bit', async () => {
    const { username, password } = creds('df');
    const args = ['-g', '-n', '5', '-m', '1', '-e', '127.0.0.1', '-r', String(peerPort), '-u', username, '-w', password, '-p', String(server.ports.udp), '127.0.0.1'];
    const { code, output } = await run(uclient, args);
    expect(code, output).not.toBe(0);
    expect(output).toMatch(/error 420/);
  });
});
