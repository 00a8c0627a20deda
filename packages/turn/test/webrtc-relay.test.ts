/**
 * Real WebRTC peers through a relay, relay-only (iceTransportPolicy 'relay'):
 * - node-datachannel (libdatachannel with libjuice) through our TURN over UDP, with the TURN
 *   REST credentials as URLs (percent-encoded) and as native IceServer objects;
 * - what that build cannot do: TURN over TCP/TLS (libjuice skips such servers);
 * - Chromium (playwright-core) through our TURN over UDP, TCP and TLS; TLS trusts only the
 *   test certificate's key (--ignore-certificate-errors-spki-list) and fails without it;
 * - node-datachannel through coturn (use-auth-secret) with the same credentials.
 *
 * Relays advertise 127.0.0.2 while clients live on 127.0.0.1: a permission for a peer's relayed
 * address then does not let the other peer's own socket in, so the only working path is
 * relay ↔ relay, and the selected pairs must show relay candidates on both sides.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TurnServer, turnCredentials } from '../src/index.js';
import { chromiumBinary } from '@pinhole/test-kit/binaries';
import { freeUdpPort } from '@pinhole/test-kit/ports';
import { SECRET, TLS_CERT, startTestServer } from '@pinhole/test-kit/turn-server';
import { eventually } from '@pinhole/test-kit/wait';
import { startCoturn } from '@pinhole/test-kit/coturn';
import { type IceServerInit, type PairResult, browserPair, connectPeers, gatherOnly, libdatachannelIceServer, nativeIceServer, relayPeer, statsPair } from '@pinhole/test-kit/webrtc';

const RELAY_IP = '127.0.0.2';
const MIN_PORT = 40000;
const MAX_PORT = 48999;
/** Connect times per path, printed at the end (the report quotes them). */
const timings: string[] = [];

let server: TurnServer;
beforeAll(async () => {
  server = await startTestServer({ relayIp: RELAY_IP, relayBindIp: RELAY_IP, minPort: MIN_PORT, maxPort: MAX_PORT });
});
afterAll(async () => {
  await server?.close();
  if (timings.length) console.log(`connect via relay (offer → one message each way):\n  ${timings.join('\n  ')}`);
});

function expectRelayPair(result: PairResult, relayIp: string, range: [number, number]): void {
  for (const { local, remote } of result.selected) {
    for (const end of [local, remote]) {
      expect(end.type).toBe('relay');
      expect(end.address).toBe(relayIp);
      expect(end.port).toBeGreaterThanOrEqual(range[0]);
      expect(end.port).toBeLessThanOrEqual(range[1]);
    }
  }
  // Each side's local relay is the other side's remote: one path, two allocations.
  expect(result.selected[0].local).toEqual(result.selected[1].remote);
  expect(result.selected[1].local).toEqual(result.selected[0].remote);
}

describe('node-datachannel peers through Pinhole TURN over UDP', () => {
  const creds = (identity: string) => turnCredentials(SECRET, identity, 600);
  const url = (): string => `turn:127.0.0.1:${server.ports.udp}?transport=udp`;

  it.each([
    ['URLs', 'TURN URLs with percent-encoded REST credentials (polyfill iceServers)', (id: string) => {
      const c = creds(id);
      return relayPeer({ iceServers: [libdatachannelIceServer(url(), c.username, c.credential)] });
    }],
    ['native', 'native IceServer objects with the raw credentials', (id: string) => {
      const c = creds(id);
      return relayPeer({ native: [nativeIceServer('127.0.0.1', server.ports.udp, c.username, c.credential, 'TurnUdp')] });
    }],
  ])('%s: %s: data flows both ways, relay ↔ relay', async (label, _what, make) => {
    const before = server.stats();
    const a = make('alice');
    const b = make('bob');
    try {
      const result = await connectPeers(a, b);
      timings.push(`node-datachannel → Pinhole TURN/UDP (${label}): ${result.connectMs.toFixed(0)} ms`);
      expect(result.received).toEqual(['ping from a', 'pong from b']);
      expect(result.gathered[0].every((c) => c.includes(' typ relay '))).toBe(true);
      expectRelayPair(result, RELAY_IP, [MIN_PORT, MAX_PORT]);
      expect(await statsPair(a)).toEqual({ local: 'relay', remote: 'relay' });
      const after = server.stats();
      expect(after.allocationsCreated - before.allocationsCreated).toBeGreaterThanOrEqual(2);
      expect(after.packetsToPeers).toBeGreaterThan(before.packetsToPeers);
      expect(after.packetsFromPeers).toBeGreaterThan(before.packetsFromPeers);
      expect(after.bytesToPeers).toBeGreaterThan(before.bytesToPeers);
      expect(after.authFailures).toBe(before.authFailures);
    } finally {
      a.close();
      b.close();
    }
  });

  it('without percent-encoding, libdatachannel splits `expiry:identity` at its colon and authentication fails', async () => {
    const before = server.stats().authFailures;
    const c = creds('carol');
    const pc = relayPeer({ iceServers: [{ urls: url(), username: c.username, credential: c.credential }] });
    try {
      const gathering = gatherOnly(pc, 20_000).catch(() => []);
      await eventually(() => server.stats().authFailures > before, 10_000);
      pc.close();
      expect((await gathering).filter((x) => x.includes(' typ relay '))).toEqual([]);
    } finally {
      pc.close();
    }
  });

  it('cannot use TURN over TCP or TLS: this libdatachannel build (libjuice) skips such servers', async () => {
    const c = creds('dave');
    const pc = relayPeer({
      native: [
        nativeIceServer('127.0.0.1', server.ports.tcp, c.username, c.credential, 'TurnTcp'),
        nativeIceServer('localhost', server.ports.tls!, c.username, c.credential, 'TurnTls'),
      ],
    });
    try {
      const before = server.stats();
      expect(await gatherOnly(pc)).toEqual([]);
      const after = server.stats();
      expect(after.connections).toBe(0);
      expect(after.allocationsCreated).toBe(before.allocationsCreated);
    } finally {
      pc.close();
    }
  });
});

describe('Chromium peers through Pinhole TURN', () => {
  let browser: Browser;
  const spki = createHash('sha256').update(new X509Certificate(TLS_CERT).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  beforeAll(async () => {
    // Trust exactly the test certificate's key for TLS (also TURN over TLS), nothing else.
    browser = await chromium.launch({ executablePath: chromiumBinary(), args: [`--ignore-certificate-errors-spki-list=${spki}`] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  const iceServer = (url: string, identity: string): IceServerInit => {
    const c = turnCredentials(SECRET, identity, 600);
    return { urls: url, username: c.username, credential: c.credential };
  };

  it.each([
    ['udp', () => `turn:127.0.0.1:${server.ports.udp}?transport=udp`],
    ['tcp', () => `turn:127.0.0.1:${server.ports.tcp}?transport=tcp`],
    ['tls', () => `turns:localhost:${server.ports.tls}?transport=tcp`],
  ] as const)('over %s: data flows both ways and the selected pair is relay ↔ relay', async (transport, url) => {
    const page = await browser.newPage();
    try {
      const before = server.stats();
      const r = await browserPair(page, [iceServer(url(), `chromium-${transport}`)]);
      timings.push(`Chromium → Pinhole TURN/${transport.toUpperCase()}: ${r.connectMs.toFixed(0)} ms`);
      expect(r.errors).toEqual([]);
      expect(r.received).toEqual(['ping from a', 'pong from b']);
      expect(r.local).toMatchObject({ candidateType: 'relay', address: RELAY_IP, relayProtocol: transport, url: url() });
      expect(r.remote).toMatchObject({ candidateType: 'relay', address: RELAY_IP });
      const after = server.stats();
      expect(after.allocationsCreated - before.allocationsCreated).toBeGreaterThanOrEqual(2);
      expect(after.packetsToPeers).toBeGreaterThan(before.packetsToPeers);
    } finally {
      await page.close();
    }
  });

  it('over TLS without trusting the certificate: Chromium refuses the server (701), nothing relays', async () => {
    const untrusting = await chromium.launch({ executablePath: chromiumBinary() });
    try {
      const page = await untrusting.newPage();
      const before = server.stats().allocationsCreated;
      const r = await browserPair(page, [iceServer(`turns:localhost:${server.ports.tls}?transport=tcp`, 'chromium-untrusted')], 4000);
      expect(r.received).toEqual([]);
      expect(r.errors.some((e) => e.startsWith('701 '))).toBe(true);
      expect(server.stats().allocationsCreated).toBe(before);
    } finally {
      await untrusting.close();
    }
  });
});

describe('node-datachannel peers through coturn with the same REST credentials', () => {
  it('connects relay ↔ relay over UDP (use-auth-secret)', async () => {
    const port = await freeUdpPort();
    const dir = mkdtempSync(join(tmpdir(), 'pinhole-coturn-'));
    const coturn = await startCoturn({ port, secret: SECRET, realm: 'pinhole', minPort: 49000, maxPort: 49999, pidFile: join(dir, 'turnserver.pid'), relayIp: RELAY_IP });
    const make = (identity: string) => {
      const c = turnCredentials(SECRET, identity, 600);
      return relayPeer({ iceServers: [libdatachannelIceServer(`turn:127.0.0.1:${port}?transport=udp`, c.username, c.credential)] });
    };
    const a = make('alice');
    const b = make('bob');
    try {
      const result = await connectPeers(a, b);
      timings.push(`node-datachannel → coturn/UDP: ${result.connectMs.toFixed(0)} ms`);
      expect(result.received).toEqual(['ping from a', 'pong from b']);
      expectRelayPair(result, RELAY_IP, [49000, 49999]);
    } finally {
      a.close();
      b.close();
      await coturn.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
