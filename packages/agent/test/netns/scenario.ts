/**
 * The pieces every namespace test runs, all as real processes inside the namespaces:
 * `pinhole serve` (hub + embedded TURN on UDP/TCP 3478 and TLS 443) in pub, a TCP echo
 * target and `pinhole agent` on the agent's host, `pinhole connect` on the client's host,
 * and a TCP client that pushes bytes through the forwarded port and checks SHA-256.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleCli } from '@pinhole/test-kit/cli-bundle';
import { PUBLIC_IP, Topology, type Spawned } from '@pinhole/test-kit/netns/topology';

export const HUB_URL = `https://${PUBLIC_IP}:8443`;
export const ROOM = 'netns';
const ECHO_PORT = 7007;

/** What `pinhole connect` without --forward prints: the agent check and the pair in use. */
export interface AgentCheck {
  name: string;
  echo: boolean;
  targets: string[];
  local?: string;
  remote?: string;
  protocol?: string;
  relayProtocol?: string;
  signaling?: string;
}

export class Scenario {
  readonly t: Topology;
  readonly cli: string;
  readonly #dirs: string[] = [];

  private constructor(t: Topology, cli: string) {
    this.t = t;
    this.cli = cli;
  }

  static async create(): Promise<Scenario> {
    const cli = await bundleCli();
    return new Scenario(Topology.create(), cli);
  }

  /**
   * `pinhole serve` in pub, relaying for every address of the test networks: by default the
   * hub on 8443 and TURN/TLS on 443 of its own; `ports` replaces those flags (e.g. one port 443).
   */
  async hub(ports: string[] = ['--port', '8443', '--turn-tls-port', '443']): Promise<Spawned> {
    const dataDir = this.#dir();
    const hub = this.t.spawn(this.t.pub, [
      process.execPath, this.cli, 'serve', '--host', PUBLIC_IP, ...ports, '--data-dir', dataDir,
      '--turn-port', '3478', '--turn-allow-peer', '198.18.0.0/15', '--turn-allow-peer', '10.0.0.0/8',
    ]);
    await hub.waitFor(/"msg":"hub listening"/);
    return hub;
  }

  /** A TCP echo target on the agent's loopback and `pinhole agent` exposing it as `echo`. */
  async agent(ns: string, extra: string[] = [], env: Record<string, string> = {}): Promise<Spawned> {
    const target = this.t.spawn(ns, [process.execPath, '-e', `require('net').createServer({ allowHalfOpen: true }, (s) => s.pipe(s)).listen(${ECHO_PORT}, '0.0.0.0', () => console.log('echo ready'))`]);
    await target.waitFor(/echo ready/);
    const agent = this.t.spawn(ns, [process.execPath, this.cli, 'agent', '--hub', HUB_URL, '--insecure', '--room', ROOM, '--name', 'box', '--expose', `echo=127.0.0.1:${ECHO_PORT}`, ...extra], env);
    await agent.waitFor(/"msg":"joined; serving"/);
    return agent;
  }

  /** `pinhole connect` without --forward from `ns`: info + echo over data channels, and the pair. */
  async check(ns: string, env: Record<string, string> = {}): Promise<AgentCheck> {
    const run = this.t.spawn(ns, [process.execPath, this.cli, 'connect', '--hub', HUB_URL, '--insecure', '--room', ROOM, '--wait', '45s', '--log-level', 'warn'], env);
    const m = await run.waitFor(/^(\{"peer".*\})$/m, 60_000);
    await run.stop();
    return JSON.parse(m[1]!) as AgentCheck;
  }

  /** `pinhole connect --forward 2222:echo` in `ns`, then `streams` TCP round trips of `bytes` each through it. */
  async forward(ns: string, streams: number, bytes: number, env: Record<string, string> = {}): Promise<{ sent: string; got: string }[]> {
    const connect = this.t.spawn(ns, [process.execPath, this.cli, 'connect', '--hub', HUB_URL, '--insecure', '--room', ROOM, '--forward', '2222:echo', '--wait', '45s'], env);
    await connect.waitFor(/forwarding 127\.0\.0\.1:2222/, 60_000);
    const script = `
      const net = require('net'), crypto = require('crypto');
      const one = () => new Promise((resolve, reject) => {
        const data = crypto.randomBytes(${bytes});
        const got = crypto.createHash('sha256');
        const s = net.connect({ port: 2222, host: '127.0.0.1', allowHalfOpen: true }, () => s.end(data));
        s.on('data', (c) => got.update(c));
        s.on('end', () => resolve({ sent: crypto.createHash('sha256').update(data).digest('hex'), got: got.digest('hex') }));
        s.on('error', reject);
      });
      Promise.all(Array.from({ length: ${streams} }, one)).then((r) => console.log('RESULT ' + JSON.stringify(r)), (e) => console.log('FAILED ' + e.message));
    `;
    const client = this.t.spawn(ns, [process.execPath, '-e', script]);
    const m = await client.waitFor(/^(RESULT|FAILED) (.*)$/m, 60_000);
    await connect.stop();
    if (m[1] === 'FAILED') throw new Error(`forward failed: ${m[2]}\n${connect.output()}`);
    return JSON.parse(m[2]!) as { sent: string; got: string }[];
  }

  /** The sum of a hub metric's samples (every label), scraped from the hub's /metrics from `ns`. */
  async metric(ns: string, name: string): Promise<number> {
    const scrape = this.t.spawn(ns, [
      process.execPath, '-e',
      `fetch('${HUB_URL}/metrics').then((r) => r.text()).then((t) => console.log('METRICS ' + JSON.stringify(t)), (e) => console.log('METRICS-FAILED ' + e.message));`,
    ], { NODE_TLS_REJECT_UNAUTHORIZED: '0' });
    const m = await scrape.waitFor(/^METRICS(-FAILED)? (.*)$/m);
    if (m[1]) throw new Error(`scraping metrics failed: ${m[2]}`);
    const text = JSON.parse(m[2]!) as string;
    let sum = 0;
    for (const line of text.split('\n')) {
      const sample = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
      if (sample) sum += Number(sample[2]);
    }
    return sum;
  }

  /** Whether a TCP connection from `ns` to `host:port` is refused or times out (true) or gets through (false). */
  async blocked(ns: string, host: string, port: number): Promise<boolean> {
    const probe = this.t.spawn(ns, [
      process.execPath, '-e',
      `const s = require('net').connect(${port}, '${host}'); s.setTimeout(1500, () => { console.log('PROBE blocked'); process.exit(0); });
       s.on('connect', () => { console.log('PROBE open'); process.exit(0); }); s.on('error', () => { console.log('PROBE blocked'); process.exit(0); });`,
    ]);
    return (await probe.waitFor(/PROBE (blocked|open)/))[1] === 'blocked';
  }

  async destroy(): Promise<void> {
    await this.t.destroy();
    for (const d of this.#dirs) rmSync(d, { recursive: true, force: true });
    // The CLI bundle is shared by every scenario of the test file; bundleCli deletes it at exit.
  }

  #dir(): string {
    const d = mkdtempSync(join(tmpdir(), 'pinhole-netns-'));
    this.#dirs.push(d);
    return d;
  }
}

/** Firewall of an egress-only host: nothing may open a connection to it. `egressTo` also limits what it may reach. */
export function egressOnly(egressTo?: string): string {
  return `table inet egress {
    counter inbound_new_dropped {}
    chain input { type filter hook input priority filter; policy drop;
      iif "lo" accept
      ct state established,related accept
      counter name inbound_new_dropped drop
    }
    ${egressTo ? `chain output { type filter hook output priority filter; policy drop;
      oif "lo" accept
      ct state established,related accept
      ip daddr ${egressTo} accept
    }` : ''}
  }`;
}
