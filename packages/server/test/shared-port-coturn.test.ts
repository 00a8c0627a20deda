/**
 * coturn's own TURN client (turnutils_uclient, Debian `coturn`) through the shared port:
 * TURN over TCP and over TLS on the hub's HTTPS port, relaying to turnutils_peer. A client that is not ours shows that the
 * first-bytes / ALPN decision holds for another implementation's STUN and TLS.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTurnServer, turnCredentials, type TurnServer } from '@pinhole/turn';
import type { RunningHub } from '../src/index.js';
import { coturnBinary } from '@pinhole/test-kit/binaries';
import { parseUclient } from '@pinhole/test-kit/coturn';
import { freeUdpPort } from '@pinhole/test-kit/ports';
import { run, startProcess } from '@pinhole/test-kit/process';
import { TLS_CERT as CERT, TLS_KEY as KEY } from '@pinhole/test-kit/turn-server';
import { startTestHub } from './support/hub.js';

const SECRET = 'shared-port-coturn';

let turn: TurnServer;
let hub: RunningHub;
let peer: ReturnType<typeof startProcess>;
let peerPort: number;
beforeAll(async () => {
  turn = await startTurnServer({ listeningIp: '127.0.0.1', udpPort: 0, tcpPort: 0, secret: SECRET, allowPeers: ['127.0.0.0/8'], minPort: 40000, maxPort: 48999 });
  hub = await startTestHub({ secret: SECRET, tls: { cert: CERT, key: KEY }, singlePort: { stun: (socket, transport) => turn.acceptConnection(socket, transport) } });
  peerPort = await freeUdpPort();
  peer = startProcess(coturnBinary('turnutils_peer'), ['-L', '127.0.0.1', '-p', String(peerPort)]);
  await new Promise((r) => setTimeout(r, 200));
  expect(peer.child.exitCode, `turnutils_peer exited: ${peer.output()}`).toBeNull();
});
afterAll(async () => {
  await peer?.stop();
  await hub?.close();
  await turn?.close();
});

it.each([
  { name: 'TCP (-t)', flags: ['-t'], protocol: 'turn-tcp' },
  // coturn's client offers ALPN http/1.1, stun.turn, stun.nat-discovery: it must get stun.turn.
  { name: 'TLS (-t -S)', flags: ['-t', '-S'], protocol: 'turn-tls' },
])('turnutils_uclient allocates and relays over $name on the hub port', async ({ flags, protocol }) => {
  const c = turnCredentials(SECRET, 'uclient', 600);
  const args = ['-l', '120', '-n', '50', '-m', '2', '-e', '127.0.0.1', '-r', String(peerPort), '-u', c.username, '-w', c.credential, '-p', String(hub.port), ...flags, '127.0.0.1'];
  const { output } = await run(coturnBinary('turnutils_uclient'), args);
  const summary = parseUclient(output);
  // Not "no loss": under a load average of ~20 on 2 cores, TURN over TLS loses a few relayed
  // datagrams on its own port as well (coturn-clients.interop.test.ts 'TLS' lost 1% and
  // 53% in two of three runs here, TCP none): the routing is what this test checks.
  expect(summary, output).toBeDefined();
  expect(summary?.sent, output).toBeGreaterThanOrEqual(100);
  expect(summary?.received, output).toBeGreaterThan(0);
  const metrics = await hub.metrics.registry.metrics();
  expect(metrics).toMatch(new RegExp(`^pinhole_port_connections_total\\{protocol="${protocol}"\\} [1-9]`, 'm'));
  expect(metrics).toMatch(/^pinhole_port_refused_total\{reason="garbage"\} 0$/m);
});
