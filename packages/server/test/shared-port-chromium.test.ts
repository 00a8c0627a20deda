/**
 * Chromium on the shared port (startHub `singlePort`): the page comes over HTTPS (ALPN
 * http/1.1) from the port, its WebSocket gets a welcome from the port, and two relay-only
 * RTCPeerConnections use that welcome's `turns:` URL, TURN over TLS on the same port.
 * Relays advertise 127.0.0.2 while Chromium lives on 127.0.0.1, so only relay ↔ relay pairs.
 * The test certificate's key is the only one trusted (--ignore-certificate-errors-spki-list).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { IceServer } from '@pinhole/protocol';
import { startTurnServer, type TurnServer } from '@pinhole/turn';
import { mintToken, type RunningHub } from '../src/index.js';
import { chromiumBinary } from '@pinhole/test-kit/binaries';
import { TLS_CERT as CERT, TLS_KEY as KEY } from '@pinhole/test-kit/turn-server';
import { browserPair } from '@pinhole/test-kit/webrtc';
import { startTestHub } from './support/hub.js';

const SECRET = 'shared-port-chromium';
const RELAY_IP = '127.0.0.2';

let turn: TurnServer;
let hub: RunningHub;
let browser: Browser;
beforeAll(async () => {
  turn = await startTurnServer({ listeningIp: '127.0.0.1', udpPort: 0, tcpPort: 0, secret: SECRET, relayIp: RELAY_IP, relayBindIp: RELAY_IP, allowPeers: ['127.0.0.0/8'], minPort: 40000, maxPort: 48999 });
  hub = await startTestHub({
    secret: SECRET,
    tls: { cert: CERT, key: KEY },
    turn: { urls: [] },
    singlePort: { stun: (socket, transport) => turn.acceptConnection(socket, transport), turnHost: 'localhost' },
  });
  const spki = createHash('sha256').update(new X509Certificate(CERT).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  browser = await chromium.launch({ executablePath: chromiumBinary(), args: [`--ignore-certificate-errors-spki-list=${spki}`] });
});
afterAll(async () => {
  await browser?.close();
  await hub?.close();
  await turn?.close();
});

async function metric(name: string, label: string): Promise<number> {
  const m = new RegExp(`^${name}\\{[^}]*="${label}"[^}]*\\} (\\d+)`, 'm').exec(await hub.metrics.registry.metrics());
  return m ? Number(m[1]) : NaN;
}

it('page, WSS welcome and relay-only media all through TURN over TLS on the one port', async () => {
  const page = await browser.newPage();
  try {
    const res = await page.goto(`https://localhost:${hub.port}/healthz`);
    expect(res?.status()).toBe(200);
    const token = await mintToken(SECRET, { identity: 'chromium' }, 600);
    const iceServers = await page.evaluate<IceServer[], string>(
      (t) =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(`wss://${location.host}/v1/ws`);
          ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', token: t }));
          ws.onmessage = (m) => {
            const frame = JSON.parse(String(m.data)) as { type: string; iceServers: IceServer[] };
            ws.close();
            if (frame.type === 'welcome') resolve(frame.iceServers);
            else reject(new Error(String(m.data)));
          };
          ws.onerror = () => reject(new Error('WebSocket failed'));
        }),
      token,
    );
    const url = `turns:localhost:${hub.port}?transport=tcp`;
    expect(iceServers).toEqual([{ urls: [url], username: expect.stringMatching(/:chromium$/), credential: expect.any(String) }]);
    const r = await browserPair(page, iceServers, 20_000);
    console.info(`Chromium relay-only through TURN/TLS on the shared port: connected in ${r.connectMs.toFixed(0)} ms`);
    expect(r.errors).toEqual([]);
    expect(r.received).toEqual(['ping from a', 'pong from b']);
    expect(r.local).toMatchObject({ candidateType: 'relay', address: RELAY_IP, relayProtocol: 'tls', url });
    expect(r.remote).toMatchObject({ candidateType: 'relay', address: RELAY_IP });
    // The page and the WebSocket came as HTTPS, the two relays' connections as TURN/TLS.
    expect(await metric('pinhole_port_connections_total', 'https')).toBeGreaterThanOrEqual(2);
    expect(await metric('pinhole_port_connections_total', 'turn-tls')).toBeGreaterThanOrEqual(2);
    expect(turn.stats().packetsToPeers).toBeGreaterThan(0);
  } finally {
    await page.close();
  }
});
