/**
 * The whole path a client takes: `pinhole serve` hands out welcome.iceServers, and two
 * node-datachannel peers use exactly those credentials, relay-only, through
 * (1) the embedded TURN (--turn-allow-peer 127.0.0.0/8 so loopback peers may be relayed to), and
 * (2) a real coturn (use-auth-secret) named with --turn-url / --turn-secret.
 * libdatachannel (libjuice build) only uses the TURN/UDP entries; credentials are
 * percent-encoded for its URL parser (see packages/turn/test/helpers/webrtc.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { WelcomeFrame } from '@pinhole/protocol';
import { freeUdpPort } from '@pinhole/test-kit/ports';
import { startCoturn } from '@pinhole/test-kit/coturn';
import { connectPeers, libdatachannelIceServer, relayPeer, type IceServerInit } from '@pinhole/test-kit/webrtc';
import { freeUdpTcpPorts, hello, startServeCli, stopAll, tempDirs } from '@pinhole/test-kit/cli';

const dirs = tempDirs();
const RELAY_IP = '127.0.0.2';
afterEach(async () => {
  await stopAll();
  dirs.cleanup();
});

/** The TURN/UDP entries of welcome.iceServers, in the form libdatachannel parses. */
function udpTurnServers(w: WelcomeFrame): IceServerInit[] {
  const out: IceServerInit[] = [];
  for (const server of w.iceServers) {
    const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
    for (const url of urls) {
      if (url.startsWith('turn:') && !url.includes('transport=tcp') && server.username && server.credential) {
        out.push(libdatachannelIceServer(url, server.username, server.credential));
      }
    }
  }
  return out;
}

async function connectWith(hubHost: string, hubPort: number) {
  const url = `ws://${hubHost}:${hubPort}/v1/ws`;
  // Dev mode (no --secret): a welcome without a token; the TURN credentials are minted all the same.
  const [wa, wb] = await Promise.all([hello(url), hello(url)]);
  const a = relayPeer({ iceServers: udpTurnServers(wa) });
  const b = relayPeer({ iceServers: udpTurnServers(wb) });
  try {
    return { w: wa, result: await connectPeers(a, b) };
  } finally {
    a.close();
    b.close();
  }
}

describe('node-datachannel peers with the credentials of welcome.iceServers', () => {
  it('through the embedded TURN of pinhole serve', async () => {
    const [turnPort] = await freeUdpTcpPorts(1);
    // Serve on 127.0.0.2 while the peers' sockets are on 127.0.0.1: relayed addresses
    // (127.0.0.2) differ from the peers' own, so only relay ↔ relay can pair.
    const s = await startServeCli(['--host', RELAY_IP, '--port', '0', '--no-tls', '--data-dir', dirs.make(), '--turn-port', String(turnPort), '--turn-allow-peer', '127.0.0.0/8']);
    const { w, result } = await connectWith(RELAY_IP, s.server.port);
    console.log(`node-datachannel via pinhole serve's embedded TURN/UDP: ${result.connectMs.toFixed(0)} ms`);
    expect(w.iceServers.some((i) => (Array.isArray(i.urls) ? i.urls : [i.urls]).includes(`turn:${RELAY_IP}:${turnPort}?transport=udp`))).toBe(true);
    expect(result.received).toEqual(['ping from a', 'pong from b']);
    for (const { local, remote } of result.selected) {
      expect(local).toMatchObject({ type: 'relay', address: RELAY_IP });
      expect(remote).toMatchObject({ type: 'relay', address: RELAY_IP });
    }
    const stats = s.server.turn!.stats!();
    expect(stats.allocationsCreated).toBeGreaterThanOrEqual(2);
    expect(stats.packetsToPeers + stats.packetsFromPeers).toBeGreaterThan(0);
    expect(stats.authFailures).toBe(0);
  });

  it('through coturn (use-auth-secret) named with --turn-url and --turn-secret', async () => {
    const port = await freeUdpPort();
    const dir = mkdtempSync(join(tmpdir(), 'pinhole-coturn-'));
    const coturnSecret = 'coturn-shared-secret';
    const coturn = await startCoturn({ port, secret: coturnSecret, realm: 'pinhole', minPort: 49000, maxPort: 49999, pidFile: join(dir, 'turnserver.pid'), relayIp: RELAY_IP });
    try {
      const s = await startServeCli([
        '--host', '127.0.0.1', '--port', '0', '--no-tls', '--data-dir', dirs.make(),
        '--turn-url', `turn:127.0.0.1:${port}?transport=udp`, '--turn-secret', coturnSecret,
      ]);
      expect(s.server.turn).toBeUndefined();
      const { result } = await connectWith('127.0.0.1', s.server.port);
      console.log(`node-datachannel via coturn/UDP with hub credentials: ${result.connectMs.toFixed(0)} ms`);
      expect(result.received).toEqual(['ping from a', 'pong from b']);
      for (const { local, remote } of result.selected) {
        expect(local).toMatchObject({ type: 'relay', address: RELAY_IP });
        expect(remote).toMatchObject({ type: 'relay', address: RELAY_IP });
      }
    } finally {
      await coturn.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
