/**
 * `pinhole turn` (in-process and as the built executable), `--turn-allow-peer` and the TURN
 * TCP/TLS connection limits on turn and serve, and the pinhole_turn_* metrics on `turn --metrics-port` and on the hub's /metrics.
 * Real sockets throughout: the TURN test client of @pinhole/test-kit allocates against them.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageClass, Method, StunMessage, turnCredentials } from '@pinhole/turn';
import { runCli, type RunningTurn } from '../src/index.js';
import { TestTurnClient, udpPeer } from '@pinhole/test-kit/turn-client';
import { TLS_CERT_PATH, TLS_KEY_PATH } from '@pinhole/test-kit/turn-server';
import { capture, freeUdpTcpPorts, get, run, startServeCli, stopAll, tempDirs } from '@pinhole/test-kit/cli';

const SECRET = 'turn-command-secret';
const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

const dirs = tempDirs();
const running = new Set<() => Promise<number>>();
afterEach(async () => {
  await Promise.all([...running].map((stop) => stop()));
  running.clear();
  await stopAll();
  dirs.cleanup();
});

/** Runs `pinhole turn <argv>` in-process until `stop()`; resolves once it listens. */
async function startTurnCli(argv: string[], env: Record<string, string> = {}) {
  const abort = new AbortController();
  const stdout = capture();
  const stderr = capture();
  let listening!: (t: RunningTurn) => void;
  const started = new Promise<RunningTurn>((r) => (listening = r));
  const done = runCli(['turn', '--host', '127.0.0.1', '--data-dir', dirs.make(), '--log-level', 'warn', ...argv], {
    stdout,
    stderr,
    env,
    signal: abort.signal,
    handleSignals: false,
    onTurn: listening,
  });
  const turn = await Promise.race([
    started,
    done.then((code) => {
      throw new Error(`turn exited ${code} before listening: ${stderr.text}`);
    }),
  ]);
  const stop = (): Promise<number> => {
    running.delete(stop);
    abort.abort();
    return done;
  };
  running.add(stop);
  return { turn, stderr, stop };
}

const rest = (identity: string) => {
  const c = turnCredentials(SECRET, identity, 600);
  return { username: c.username, password: c.credential };
};

describe('pinhole turn', () => {
  it('serves STUN/TURN over UDP, TCP and TLS with REST credentials, prints what it listens on, stops cleanly', async () => {
    const t = await startTurnCli([
      '--turn-port', '0', '--turn-tls-port', '0', '--secret', SECRET,
      '--tls-cert', TLS_CERT_PATH, '--tls-key', TLS_KEY_PATH,
    ]);
    const ports = t.turn.turn.ports!;
    expect(ports.tls).toBeGreaterThan(0);
    expect(t.stderr.text).toContain(`UDP 127.0.0.1:${ports.udp}, TCP 127.0.0.1:${ports.tcp}, TLS 127.0.0.1:${ports.tls}`);
    expect(t.stderr.text).toContain(`turn:127.0.0.1:${ports.udp}?transport=udp`);
    expect(t.stderr.text).toContain(`turns:127.0.0.1:${ports.tls}?transport=tcp`);
    for (const [transport, port] of [['udp', ports.udp], ['tcp', ports.tcp], ['tls', ports.tls!]] as const) {
      const client = await TestTurnClient.connect({ transport, port, ...rest(`via-${transport}`) });
      const relayed = await client.allocate();
      expect(relayed.address).toBe('127.0.0.1');
      client.close();
    }
    const wrong = await TestTurnClient.connect({ transport: 'udp', port: ports.udp, username: rest('x').username, password: 'wrong' });
    await expect(wrong.allocate()).rejects.toThrow(/401/);
    wrong.close();
    expect(t.turn.turn.stats!().authFailures).toBeGreaterThan(0);

    expect(await t.stop()).toBe(0);
    expect(t.stderr.text).toContain('shutting down');
    // Closed for real: a new client gets no answer.
    const late = await TestTurnClient.connect({ transport: 'udp', port: ports.udp, ...rest('late') });
    await expect(late.allocate()).rejects.toThrow(/no response/);
    late.close();
  });

  it('takes its options from env and the config file: static users, relay port range, realm', async () => {
    const dir = dirs.make();
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ turnUsers: ['carol:c-pass'], turnRelayMinPort: 45100, turnRelayMaxPort: 45199, turnRealm: 'example.org' }));
    const t = await startTurnCli(['--turn-port', '0', '--config', config], { PINHOLE_TURN_USERS: 'dave:d:pass' });
    // env beats the file for the same key: dave (password with a colon) exists, carol does not.
    const dave = await TestTurnClient.connect({ transport: 'udp', port: t.turn.turn.ports!.udp, username: 'dave', password: 'd:pass' });
    const relayed = await dave.allocate();
    expect(relayed.port).toBeGreaterThanOrEqual(45100);
    expect(relayed.port).toBeLessThanOrEqual(45199);
    dave.close();
    const carol = await TestTurnClient.connect({ transport: 'udp', port: t.turn.turn.ports!.udp, username: 'carol', password: 'c-pass' });
    await expect(carol.allocate()).rejects.toThrow(/401/);
    carol.close();
    expect(t.stderr.text).toContain('static users dave (realm example.org)');
  });

  it.each([
    ['no credentials', [], /needs credentials/],
    ['a bad CIDR', ['--secret', 's', '--turn-allow-peer', '10.0.0.0/33'], /--turn-allow-peer: "10.0.0.0\/33" is not a CIDR range/],
    ['a user without a password', ['--secret', 's', '--turn-user', 'alice'], /--turn-user: "alice" is not NAME:PASSWORD/],
    ['an empty relay range', ['--secret', 's', '--turn-relay-min-port', '50000', '--turn-relay-max-port', '40000'], /not a port range/],
    ['a host name as external IP', ['--secret', 's', '--turn-external-ip', 'turn.example.com'], /is not an IP address/],
  ])('exits 2 on %s', async (_name, argv, message) => {
    const r = await run(['turn', '--host', '127.0.0.1', '--turn-port', '0', '--data-dir', dirs.make(), ...argv]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('the built executable stops on SIGTERM with exit code 0', async () => {
    if (!existsSync(BIN)) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    const child = spawn(process.execPath, [BIN, 'turn', '--host', '127.0.0.1', '--turn-port', '0', '--secret', SECRET, '--data-dir', dirs.make()], {
      env: { PATH: process.env.PATH ?? '', HOME: dirs.make() },
    });
    let stderr = '';
    let stdout = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 10_000;
      let port: number | undefined;
      while (!(port = Number(/UDP 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]) || undefined)) {
        if (Date.now() > deadline) throw new Error(`no banner: ${stderr}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      const client = await TestTurnClient.connect({ transport: 'udp', port, ...rest('bin') });
      await client.allocate();
      client.close();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const msgs = stdout.trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg);
      expect(msgs).toEqual(expect.arrayContaining(['turn: listening', 'turn listening', 'stopped']));
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('--turn-allow-peer', () => {
  /** Allocates and asks for a permission to a loopback UDP peer; resolves with the response code. */
  async function permissionCode(port: number, creds: { username: string; password: string }): Promise<number | undefined> {
    const peer = await udpPeer();
    const client = await TestTurnClient.connect({ transport: 'udp', port, ...creds });
    try {
      await client.allocate();
      const response = await client.createPermission(peer.address);
      return response.get('ERROR-CODE')?.code ?? 200;
    } finally {
      client.close();
      peer.close();
    }
  }

  it('pinhole turn: a loopback peer gets 403 by default and is allowed with the flag (or PINHOLE_TURN_ALLOW_PEERS)', async () => {
    const plain = await startTurnCli(['--turn-port', '0', '--secret', SECRET]);
    expect(await permissionCode(plain.turn.turn.ports!.udp, rest('a'))).toBe(403);
    expect(plain.turn.turn.stats!().refusedPeers).toBe(1);

    const flag = await startTurnCli(['--turn-port', '0', '--secret', SECRET, '--turn-allow-peer', '127.0.0.0/8']);
    expect(await permissionCode(flag.turn.turn.ports!.udp, rest('b'))).toBe(200);

    const env = await startTurnCli(['--turn-port', '0', '--secret', SECRET], { PINHOLE_TURN_ALLOW_PEERS: '10.0.0.0/8, 127.0.0.1' });
    expect(await permissionCode(env.turn.turn.ports!.udp, rest('c'))).toBe(200);
    expect(env.stderr.text).toContain('except 10.0.0.0/8, 127.0.0.1/32');
  });

  it('pinhole serve: the embedded TURN refuses a loopback peer by default and relays to it with the flag', async () => {
    const serve = async (extra: string[]) => {
      const [port] = await freeUdpTcpPorts(1);
      return startServeCli(['--host', '127.0.0.1', '--port', '0', '--no-tls', '--data-dir', dirs.make(), '--secret', SECRET, '--turn-port', String(port), ...extra]);
    };
    const plain = await serve([]);
    expect(await permissionCode(plain.server.turn!.ports!.udp, rest('a'))).toBe(403);
    const allowed = await serve(['--turn-allow-peer', '127.0.0.0/8']);
    expect(await permissionCode(allowed.server.turn!.ports!.udp, rest('b'))).toBe(200);
  });
});

describe('TURN TCP/TLS connection limits and timeout', () => {
  const SLOW_MS = 10_000;
  const within = <T>(p: Promise<T>, what: string): Promise<T> =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${SLOW_MS} ms`)), SLOW_MS))]);

  /**
   * With a per-source limit of 1 and a short timeout: the first TCP connection is served, a
   * second from the same address is closed at once, and the first (never allocating) times out.
   */
  async function checkLimits(tcpPort: number): Promise<void> {
    const first = await TestTurnClient.connect({ transport: 'tcp', port: tcpPort, ...rest('a') });
    try {
      const binding = await first.request(new StunMessage(Method.Binding, MessageClass.Request), SLOW_MS);
      expect(binding.cls).toBe(MessageClass.SuccessResponse);
      const second = connect({ host: '127.0.0.1', port: tcpPort });
      second.on('error', () => undefined);
      await within(new Promise((resolve) => second.once('close', resolve)), 'second connection closed');
      await within(first.closed, 'unallocated connection timed out');
    } finally {
      first.close();
    }
  }

  it('pinhole turn: --turn-max-connections-per-source and --turn-connection-timeout', async () => {
    const t = await startTurnCli(['--turn-port', '0', '--secret', SECRET, '--turn-max-connections-per-source', '1', '--turn-connection-timeout', '500ms', '--metrics-port', '0']);
    await checkLimits(t.turn.turn.ports!.tcp);
    expect(sample((await get(t.turn.metricsUrl!)).body, 'pinhole_turn_refused_connections_total')).toBe(1);
  });

  it('pinhole serve: the same settings from PINHOLE_TURN_MAX_CONNECTIONS and PINHOLE_TURN_CONNECTION_TIMEOUT', async () => {
    const [port] = await freeUdpTcpPorts(1);
    const s = await startServeCli(['--host', '127.0.0.1', '--port', '0', '--no-tls', '--data-dir', dirs.make(), '--secret', SECRET, '--turn-port', String(port)], {
      PINHOLE_TURN_MAX_CONNECTIONS: '1',
      PINHOLE_TURN_CONNECTION_TIMEOUT: '500ms',
    });
    await checkLimits(s.server.turn!.ports!.tcp);
  });
});

/** The value of one sample line (`name` or `name{label="v"}`) of a Prometheus text page. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Allocation, permission, one datagram each way through the relay, one bad password. */
async function relayTraffic(port: number): Promise<void> {
  const peer = await udpPeer();
  const client = await TestTurnClient.connect({ transport: 'udp', port, ...rest('metrics') });
  try {
    const relayed = await client.allocate();
    expect((await client.createPermission(peer.address)).get('ERROR-CODE')).toBeUndefined();
    client.send(peer.address, Buffer.from('to the peer'));
    const got = await peer.next();
    expect(got.data.toString()).toBe('to the peer');
    peer.socket.send(Buffer.from('back to you!'), relayed.port, relayed.address);
    expect((await client.nextData()).data.toString()).toBe('back to you!');
  } finally {
    client.close();
    peer.close();
  }
  const wrong = await TestTurnClient.connect({ transport: 'udp', port, username: rest('m').username, password: 'wrong' });
  await expect(wrong.allocate()).rejects.toThrow(/401/);
  wrong.close();
}

const expectTurnCounters = (before: string, after: string): void => {
  for (const series of ['pinhole_turn_allocations', 'pinhole_turn_permissions']) {
    expect(sample(after, series)).toBe(1);
  }
  expect(sample(before, 'pinhole_turn_allocations_total')).toBe(0);
  expect(sample(after, 'pinhole_turn_allocations_total')).toBe(1);
  expect(sample(after, 'pinhole_turn_relayed_packets_total{direction="to_peer"}')).toBe(1);
  expect(sample(after, 'pinhole_turn_relayed_packets_total{direction="from_peer"}')).toBe(1);
  expect(sample(after, 'pinhole_turn_relayed_bytes_total{direction="to_peer"}')).toBe('to the peer'.length);
  expect(sample(after, 'pinhole_turn_relayed_bytes_total{direction="from_peer"}')).toBe('back to you!'.length);
  expect(sample(before, 'pinhole_turn_auth_failures_total')).toBe(0);
  expect(sample(after, 'pinhole_turn_auth_failures_total')).toBe(1);
  expect(sample(after, 'pinhole_turn_refused_peers_total')).toBe(0);
  expect(sample(after, 'pinhole_turn_error_responses_total{code="401"}')).toBeGreaterThanOrEqual(2);
};

describe('TURN metrics', () => {
  it('pinhole turn --metrics-port: counters move after an allocation and relayed data', async () => {
    const t = await startTurnCli(['--turn-port', '0', '--secret', SECRET, '--turn-allow-peer', '127.0.0.0/8', '--metrics-port', '0']);
    const url = t.turn.metricsUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(t.stderr.text).toContain(`metrics: ${url}`);
    const before = (await get(url)).body;
    await relayTraffic(t.turn.turn.ports!.udp);
    const after = await get(url);
    expect(after.status).toBe(200);
    expectTurnCounters(before, after.body);
    expect(after.body).toContain('process_cpu_seconds_total');
    expect((await get(url.replace('/metrics', '/other'))).status).toBe(404);
  });

  it("pinhole serve: the embedded TURN's counters are on the hub's /metrics", async () => {
    const [port] = await freeUdpTcpPorts(1);
    const s = await startServeCli(['--host', '127.0.0.1', '--port', '0', '--no-tls', '--data-dir', dirs.make(), '--secret', SECRET, '--turn-port', String(port), '--turn-allow-peer', '127.0.0.0/8']);
    const url = `http://127.0.0.1:${s.server.port}/metrics`;
    const before = (await get(url)).body;
    expect(before).toContain('pinhole_sessions');
    await relayTraffic(port!);
    expectTurnCounters(before, (await get(url)).body);
  });
});
