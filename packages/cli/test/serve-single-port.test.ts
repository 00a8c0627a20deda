/** Integration: `pinhole serve --single-port` (and `--port 443`): one TCP port for the hub, the web app and TURN. */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { servedUrls } from '../src/addresses.js';
import { TestTurnClient } from '@pinhole/test-kit/turn-client';
import { freeUdpTcpPorts, get, hello, run, startServeCli, stopAll, tempDirs } from '@pinhole/test-kit/cli';

const dirs = tempDirs();
afterEach(async () => {
  await stopAll();
  dirs.cleanup();
});

describe('pinhole serve --single-port', () => {
  it('serves the web app, WSS signaling and TURN over TLS on --port; welcome names turns: there', async () => {
    const [turnPort] = (await freeUdpTcpPorts(1)) as [number];
    const dataDir = dirs.make();
    const s = await startServeCli(['--host', '127.0.0.1', '--port', '0', '--single-port', '--turn-port', String(turnPort), '--data-dir', dataDir]);
    const port = s.server.port;
    const ca = readFileSync(join(dataDir, 'cert.pem'), 'utf8');
    const page = await get(`https://127.0.0.1:${port}/`, { ca });
    expect(page.body.toLowerCase()).toMatch(/^<!doctype html/);
    const welcome = await hello(`wss://127.0.0.1:${port}/v1/ws`, ca);
    const turn = welcome.iceServers.find((i) => i.username !== undefined)!;
    // UDP and TCP on --turn-port as before; TLS moved from --turn-tls-port to the shared port.
    expect(turn.urls).toEqual([`turn:127.0.0.1:${turnPort}?transport=udp`, `turn:127.0.0.1:${turnPort}?transport=tcp`, `turns:127.0.0.1:${port}?transport=tcp`]);
    const client = await TestTurnClient.connect({ transport: 'tls', port, username: turn.username!, password: turn.credential! });
    expect((await client.allocate()).port).toBeGreaterThan(0);
    client.close();
    expect(s.stderr.text).toContain(`One port: HTTPS/WSS, TURN over TLS, STUN/TURN over TCP all on ${port}`);
    const metrics = await get(`https://127.0.0.1:${port}/metrics`, { ca });
    expect(metrics.body).toMatch(/^pinhole_port_connections_total\{protocol="turn-tls"\} 1$/m);
    expect(await s.stop()).toBe(0);
  });

  it('without TLS: plain HTTP and TURN over TCP on the port, welcome names turn:…?transport=tcp', async () => {
    const [turnPort] = (await freeUdpTcpPorts(1)) as [number];
    const s = await startServeCli(['--host', '127.0.0.1', '--port', '0', '--single-port', '--no-tls', '--turn-port', String(turnPort), '--data-dir', dirs.make()]);
    const port = s.server.port;
    expect((await get(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const welcome = await hello(`ws://127.0.0.1:${port}/v1/ws`);
    const turn = welcome.iceServers.find((i) => i.username !== undefined)!;
    expect(turn.urls).toContain(`turn:127.0.0.1:${port}?transport=tcp`);
    const client = await TestTurnClient.connect({ transport: 'tcp', port, username: turn.username!, password: turn.credential! });
    expect((await client.allocate()).port).toBeGreaterThan(0);
    client.close();
    expect(await s.stop()).toBe(0);
  });

  it('without embedded TURN the port serves HTTP(S) only and closes STUN', async () => {
    const s = await startServeCli(['--host', '127.0.0.1', '--port', '0', '--single-port', '--no-tls', '--turn-port', '0', '--data-dir', dirs.make()]);
    const port = s.server.port;
    expect((await get(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const closed = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1', () => sock.write(Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, ...new Array<number>(12).fill(1)])));
      sock.on('error', () => undefined);
      sock.resume();
      sock.once('close', () => resolve(true));
    });
    expect(closed).toBe(true);
    expect((await get(`http://127.0.0.1:${port}/metrics`)).body).toMatch(/^pinhole_port_refused_total\{reason="unserved"\} 1$/m);
    expect(await s.stop()).toBe(0);
  });

  it.each([
    [['--single-port', '--turn-tls-port', '6000'], '--turn-tls-port contradicts --single-port'],
    [['--port', '443', '--turn-tls-port', '6000'], '--turn-tls-port contradicts --port 443'],
  ])('%j is a usage error', async (flags, message) => {
    const r = await run(['serve', '--host', '127.0.0.1', '--data-dir', dirs.make(), ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe('servedUrls', () => {
  it.each([
    [443, true, 'https://localhost/', 'wss://localhost/v1/ws'],
    [80, false, 'http://localhost/', 'ws://localhost/v1/ws'],
    [8443, true, 'https://localhost:8443/', 'wss://localhost:8443/v1/ws'],
    [443, false, 'http://localhost:443/', 'ws://localhost:443/v1/ws'],
  ])('port %i, TLS %s: %s', (port, tls, local, ws) => {
    expect(servedUrls('0.0.0.0', port, tls, {})).toMatchObject({ local, ws, lan: [] });
  });
});
