/** Integration: `pinhole serve` in-process against the real @pinhole/server hub. */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateSelfSigned, type EmbeddedTurnOptions, type StartTurn } from '../src/index.js';
import { TestTurnClient } from '@pinhole/test-kit/turn-client';
import { freeUdpTcpPorts, get, hello, run, startServeCli, stopAll, tempDirs } from '@pinhole/test-kit/cli';

const dirs = tempDirs();
afterEach(async () => {
  await stopAll();
  dirs.cleanup();
});

/** Loopback, a free port, no embedded TURN, a fresh data dir. */
const base = (dataDir: string): string[] => ['--host', '127.0.0.1', '--port', '0', '--turn-port', '0', '--data-dir', dataDir];

describe('pinhole serve over HTTPS with the generated certificate', () => {
  it('answers /healthz to a client trusting only that certificate, and reuses it on restart', async () => {
    const dataDir = dirs.make();
    const first = await startServeCli(base(dataDir));
    const { tls, port } = first.server;
    expect(tls?.origin).toBe('self-signed-created');
    expect(first.server.url).toBe(`https://127.0.0.1:${port}`);

    for (const servername of [undefined, 'localhost']) {
      const res = await get(`https://127.0.0.1:${port}/healthz`, { ca: tls!.cert, ...(servername ? { servername } : {}) });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ status: 'ok' });
    }
    // Without trusting it, the certificate is rejected: TLS is real, not a plain socket.
    await expect(get(`https://127.0.0.1:${port}/healthz`)).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });

    expect(first.stderr.text).toContain(`https://127.0.0.1:${port}/`);
    expect(first.stderr.text).toContain(`wss://127.0.0.1:${port}/v1/ws`);
    expect(first.stderr.text).toContain('SELF-SIGNED certificate (generated now)');
    expect(first.stderr.text).toContain(tls!.fingerprint256);
    expect(await first.stop()).toBe(0);
    await expect(get(`https://127.0.0.1:${port}/healthz`, { ca: tls!.cert })).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const second = await startServeCli(base(dataDir));
    expect(second.server.tls?.origin).toBe('self-signed-reused');
    expect(second.server.tls?.fingerprint256).toBe(tls!.fingerprint256);
    expect(second.stderr.text).toContain('SELF-SIGNED certificate (reused)');
    const res = await get(`https://127.0.0.1:${second.server.port}/healthz`, { ca: tls!.cert });
    expect(res.status).toBe(200);
  });

  it('logs JSON lines on stdout and keeps the banner on stderr', async () => {
    const s = await startServeCli(base(dirs.make()));
    await s.stop();
    const lines = s.stdout.text.trim().split('\n');
    const records = lines.map((l) => JSON.parse(l) as { msg: string; level: number });
    expect(records.map((r) => r.msg)).toEqual(expect.arrayContaining(['hub listening', 'shutting down', 'stopped']));
    expect(s.stderr.text).not.toMatch(/^\{/m);
  });

  it('warns loudly in dev mode (no secret), and not with a long secret', async () => {
    const dev = await startServeCli(base(dirs.make()));
    expect(dev.server.devMode).toBe(true);
    expect(dev.stderr.text).toContain('DEV MODE');
    expect(dev.stderr.text).toContain('Anyone who can reach this port may join ANY room');
    expect(dev.stdout.text).toMatch(/dev mode/i);

    const prod = await startServeCli(base(dirs.make()), { PINHOLE_SECRET: 'x'.repeat(40) });
    expect(prod.server.devMode).toBe(false);
    expect(prod.stderr.text).not.toContain('DEV MODE');

    const weak = await startServeCli([...base(dirs.make()), '--secret', 'short']);
    expect(weak.stderr.text).toMatch(/WARNING: the secret is 5 characters/);
  });

  it('serves the operator certificate with --tls-cert/--tls-key', async () => {
    const own = await loadOrCreateSelfSigned({ dataDir: dirs.make(), hostname: 'operator' });
    const dataDir = dirs.make();
    const s = await startServeCli([...base(dataDir), '--tls-cert', own.certPath, '--tls-key', own.keyPath]);
    expect(s.server.tls?.origin).toBe('files');
    const res = await get(`https://127.0.0.1:${s.server.port}/healthz`, { ca: own.cert });
    expect(res.status).toBe(200);
    expect(s.stderr.text).toContain(`TLS: ${own.certPath}`);
  });
});

describe('pinhole serve --no-tls', () => {
  it.each([
    ['flag', ['--no-tls'], {}],
    ['env', [], { PINHOLE_NO_TLS: '1' }],
  ])('serves plain HTTP (%s) and writes no certificate', async (_name, flags, env) => {
    const dataDir = dirs.make();
    const s = await startServeCli([...base(dataDir), ...flags], env as Record<string, string>);
    expect(s.server.tls).toBeUndefined();
    expect(s.server.url).toMatch(/^http:\/\//);
    const res = await get(`http://127.0.0.1:${s.server.port}/healthz`);
    expect(res.status).toBe(200);
    expect(s.stderr.text).toContain('TLS: off');
    expect(s.stderr.text).toContain(`ws://127.0.0.1:${s.server.port}/v1/ws`);
  });
});

describe('options reach the hub', () => {
  it('--api-key and admin tokens from `pinhole token` guard the REST API', async () => {
    const secret = 's'.repeat(32);
    const s = await startServeCli([...base(dirs.make()), '--no-tls', '--secret', secret, '--api-key', 'k1', '--api-key', 'k2']);
    const url = `http://127.0.0.1:${s.server.port}/v1/rooms/lobby/peers`;
    expect((await get(url)).status).toBe(401);
    expect((await get(url, { headers: { authorization: 'Bearer k2' } })).status).toBe(200);
    expect((await get(url, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);

    const admin = await run(['token', '--identity', 'ops', '--perms', 'admin', '--ttl', '5m', '--secret', secret, '--data-dir', dirs.make()]);
    expect(admin.code).toBe(0);
    expect((await get(url, { headers: { authorization: `Bearer ${admin.stdout.trim()}` } })).status).toBe(200);
    const user = await run(['token', '--identity', 'ann', '--secret', secret, '--data-dir', dirs.make()]);
    expect((await get(url, { headers: { authorization: `Bearer ${user.stdout.trim()}` } })).status).toBe(403);
  });

  it('limits, grace and external TURN arrive in welcome; the token is accepted over WebSocket', async () => {
    const dataDir = dirs.make();
    const secret = 'hub-secret-'.repeat(4);
    const s = await startServeCli(
      [...base(dataDir), '--max-peers-per-room', '3', '--max-rooms-per-session', '2', '--grace', '7s', '--rate', '10', '--max-write-buffer', '1048576', '--stun-url', 'stun:stun.example:3478'],
      { PINHOLE_SECRET: secret, PINHOLE_TURN_URLS: 'turn:turn.example:3478?transport=udp', PINHOLE_TURN_SECRET: 'coturn-secret' },
    );
    const token = (await run(['token', '--identity', 'ann', '--room', 'team-*', '--secret', secret, '--data-dir', dataDir])).stdout.trim();
    const welcome = await hello(`wss://127.0.0.1:${s.server.port}/v1/ws`, s.server.tls!.cert, token);
    expect(welcome).toMatchObject({
      type: 'welcome',
      identity: 'ann',
      grace: 7000,
      limits: { maxPeersPerRoom: 3, maxRoomsPerSession: 2, ratePerSecond: 10, rateBurst: 20, maxWriteBufferBytes: 1_048_576 },
    });
    expect(welcome.iceServers[0]).toEqual({ urls: ['stun:stun.example:3478'] });
    const turn = welcome.iceServers[1]!;
    expect(turn.urls).toEqual(['turn:turn.example:3478?transport=udp']);
    expect(turn.username).toMatch(/^\d+:ann$/);
    // Minted with the coturn secret (--turn-secret), not the hub secret:
    expect(turn.credential).toBe(createHmac('sha1', 'coturn-secret').update(turn.username!).digest('base64'));
    expect(s.stderr.text).toContain('TURN: turn:turn.example:3478?transport=udp');
  });

  it('fails with exit 1 and one line when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await run(['serve', '--host', '127.0.0.1', '--port', String(port), '--turn-port', '0', '--data-dir', dirs.make(), '--no-tls']);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^pinhole: hub failed to start on 127.0.0.1:${port}: .*EADDRINUSE`));
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});

describe('embedded TURN seam', () => {
  it('starts the embedded TURN: welcome credentials allocate a relay over UDP, TCP and TLS', async () => {
    const [turnPort, tlsPort] = (await freeUdpTcpPorts(2)) as [number, number];
    const dataDir = dirs.make();
    const s = await startServeCli(['--host', '127.0.0.1', '--port', '0', '--turn-port', String(turnPort), '--turn-tls-port', String(tlsPort), '--data-dir', dataDir]);
    const ca = readFileSync(join(dataDir, 'cert.pem'), 'utf8');
    const welcome = await hello(`wss://127.0.0.1:${s.server.port}/v1/ws`, ca);
    expect(welcome.iceServers[0]).toEqual({ urls: [`stun:127.0.0.1:${turnPort}`] });
    const turn = welcome.iceServers[1]!;
    expect(turn.urls).toEqual([`turn:127.0.0.1:${turnPort}?transport=udp`, `turn:127.0.0.1:${turnPort}?transport=tcp`, `turns:127.0.0.1:${tlsPort}?transport=tcp`]);
    for (const [transport, port] of [['udp', turnPort], ['tcp', turnPort], ['tls', tlsPort]] as const) {
      const client = await TestTurnClient.connect({ transport, port, username: turn.username!, password: turn.credential! });
      const relayed = await client.allocate();
      expect(relayed.port).toBeGreaterThan(0);
      client.close();
    }
    const wrong = await TestTurnClient.connect({ transport: 'udp', port: turnPort, username: turn.username!, password: 'wrong' });
    await expect(wrong.allocate()).rejects.toThrow();
    wrong.close();
    expect(await s.stop()).toBe(0);
  });

  it('passes a startTurn hook its options, hands its URLs to clients, and closes it on shutdown', async () => {
    const calls: EmbeddedTurnOptions[] = [];
    let closed = 0;
    const startTurn: StartTurn = async (options) => {
      calls.push(options);
      return {
        stunUrls: [`stun:127.0.0.1:${options.port}`],
        turnUrls: [`turn:127.0.0.1:${options.port}?transport=udp`],
        close: async () => void closed++,
      };
    };
    const s = await startServeCli(['--host', '127.0.0.1', '--port', '0', '--turn-port', '3599', '--data-dir', dirs.make(), '--no-tls'], {}, { startTurn });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ host: '127.0.0.1', port: 3599, realm: 'pinhole', publicHost: '127.0.0.1' });
    // Dev mode: a generated per-process secret, shared by hub and TURN.
    expect(calls[0]!.secret!.length).toBeGreaterThanOrEqual(32);
    const welcome = await hello(`ws://127.0.0.1:${s.server.port}/v1/ws`);
    expect(welcome.iceServers).toEqual([
      { urls: ['stun:127.0.0.1:3599'] },
      { urls: ['turn:127.0.0.1:3599?transport=udp'], username: expect.stringMatching(/^\d+:anonymous$/), credential: expect.any(String) },
    ]);
    expect(await s.stop()).toBe(0);
    expect(closed).toBe(1);
  });
});
