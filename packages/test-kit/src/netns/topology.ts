/**
 * Network-namespace topologies for the dial-out tests (ARCHITECTURE.md "Test topologies"),
 * made by the test and deleted after it, even when it fails:
 *
 *   ns pub   bridge br0 198.18.0.1/24: the "internet" (hub, TURN, proxy live here)
 *     ├── host on the public segment: eth0 198.18.0.N/24            (host())
 *     └── router: wan 198.18.0.N on br0, lan 10.K.0.1/24 → host 10.K.0.2   (natHost(),
 *         MASQUERADE with nftables, optionally fully-random ports: a symmetric-like NAT)
 *
 * 198.18.0.0/15 (RFC 2544 benchmarking) is nobody's real network. Names carry a random run
 * id so parallel runs never collide; interface names stay under IFNAMSIZ (15).
 * Firewalls are nftables scripts (`firewall()`), applied inside a namespace; a host's downlink
 * can be rate-limited with `tc tbf` (`limitDownlink()`; no netem here, so no delay or loss).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { onPath } from '../binaries.js';

export const PUBLIC_NET = '198.18.0';
export const PUBLIC_IP = `${PUBLIC_NET}.1`;

/** Why namespace tests cannot run here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root (CI runs the suite as root)';
  for (const bin of ['ip', 'nft']) {
    if (!onPath(bin)) return `${bin} is not installed (apt-get install iproute2 nftables; scripts/test.sh installs nftables when missing)`;
  }
  const probe = `ph-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
  } catch (err) {
    return `'ip netns add' failed here: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  }
  return undefined;
}

function sh(args: string[], input?: string): string {
  try {
    return execFileSync(args[0]!, args.slice(1), { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
  } catch (err) {
    throw new Error(`${args.join(' ')}: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`, { cause: err });
  }
}

export interface Spawned {
  proc: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves when `pattern` appears in the output; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

const live = new Set<Topology>();
// A test process that dies without its afterAll still leaves no namespaces behind.
process.once('exit', () => {
  for (const t of live) t.destroySync();
});

export class Topology {
  readonly id = randomBytes(3).toString('hex');
  readonly namespaces: string[] = [];
  readonly #procs = new Set<Spawned>();
  /** A host's namespace → its veth end in pub (whose egress is the host's downlink). */
  readonly #downlinks = new Map<string, string>();
  #nextLan = 1;
  #nextIf = 0;

  private constructor() {
    live.add(this);
  }

  /** The public segment: namespace `pub` with bridge br0 at PUBLIC_IP. */
  static create(): Topology {
    const t = new Topology();
    try {
      const pub = t.#ns('pub');
      t.#in(pub, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
      t.#in(pub, ['ip', 'addr', 'add', `${PUBLIC_IP}/24`, 'dev', 'br0']);
      t.#in(pub, ['ip', 'link', 'set', 'br0', 'up']);
    } catch (err) {
      t.destroySync();
      throw err;
    }
    return t;
  }

  get pub(): string {
    return this.ns('pub');
  }

  ns(role: string): string {
    return `ph-${this.id}-${role}`;
  }

  /** A host on the public segment at 198.18.0.`octet`. */
  host(role: string, octet: number): string {
    const ns = this.#ns(role);
    this.#uplink(ns, 'eth0', `${PUBLIC_NET}.${octet}`);
    this.#in(ns, ['ip', 'route', 'add', 'default', 'via', PUBLIC_IP]);
    return ns;
  }

  /**
   * A host behind its own NAT router: the router's wan is 198.18.0.`octet`, the host is
   * 10.K.0.2 behind 10.K.0.1. `randomFully`: a new random port per mapping (symmetric-like).
   */
  natHost(role: string, octet: number, options: { randomFully?: boolean } = {}): { host: string; router: string; lan: string } {
    const router = this.#ns(`${role}-nat`);
    const host = this.#ns(role);
    const lan = `10.${this.#nextLan++}.0`;
    this.#uplink(router, 'wan', `${PUBLIC_NET}.${octet}`);
    const [a, b] = this.#ifNames();
    sh(['ip', 'link', 'add', a, 'netns', router, 'type', 'veth', 'peer', 'name', b, 'netns', host]);
    this.#in(router, ['ip', 'link', 'set', a, 'name', 'lan']);
    this.#in(host, ['ip', 'link', 'set', b, 'name', 'eth0']);
    this.#in(router, ['ip', 'addr', 'add', `${lan}.1/24`, 'dev', 'lan']);
    this.#in(router, ['ip', 'link', 'set', 'lan', 'up']);
    this.#in(host, ['ip', 'addr', 'add', `${lan}.2/24`, 'dev', 'eth0']);
    this.#in(host, ['ip', 'link', 'set', 'eth0', 'up']);
    this.#in(host, ['ip', 'route', 'add', 'default', 'via', `${lan}.1`]);
    this.#in(router, ['ip', 'route', 'add', 'default', 'via', PUBLIC_IP]);
    this.#in(router, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    this.firewall(
      router,
      `table ip nat {
        chain postrouting { type nat hook postrouting priority srcnat; oifname "wan" masquerade${options.randomFully ? ' fully-random' : ''}; }
      }`,
    );
    return { host, router, lan };
  }

  /**
   * Limits what `ns` (a host()) can receive to `rate` (tc units: `300kbit`, `2mbit`) with a
   * token bucket (`tc tbf`) on its link's end in pub, queueing up to `latencyMs` before
   * dropping; `undefined` lifts the limit. Changing a limit keeps the link up.
   */
  limitDownlink(ns: string, rate: string | undefined, latencyMs = 200): void {
    const dev = this.#downlinks.get(ns);
    if (dev === undefined) throw new Error(`${ns} is not a host() of this topology`);
    if (rate === undefined) {
      sh(['ip', 'netns', 'exec', this.pub, 'tc', 'qdisc', 'del', 'dev', dev, 'root']);
      return;
    }
    // burst: at least one full-size packet per token refill at this rate (tbf refuses less).
    sh(['ip', 'netns', 'exec', this.pub, 'tc', 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', rate, 'burst', '16kb', 'latency', `${latencyMs}ms`]);
  }

  /** Applies an nftables script inside `ns`. */
  firewall(ns: string, script: string): void {
    sh(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], script);
  }

  /** A named counter's packet count (`counter name` objects in `table`). */
  counter(ns: string, family: string, table: string, name: string): number {
    const out = sh(['ip', 'netns', 'exec', ns, 'nft', 'list', 'counter', family, table, name]);
    return Number(/packets (\d+)/.exec(out)?.[1] ?? NaN);
  }

  /** Starts `argv` inside `ns`; stopped (SIGTERM, then SIGKILL) by stop() or destroy(). */
  spawn(ns: string, argv: string[], env: Record<string, string> = {}): Spawned {
    const proc = spawn('ip', ['netns', 'exec', ns, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    const spawned: Spawned = {
      proc,
      output: () => out,
      waitFor: (pattern, timeoutMs = 30_000) =>
        new Promise((resolve, reject) => {
          const check = () => {
            const m = out.match(pattern);
            if (m) return done(() => resolve(m));
            if (proc.exitCode !== null || proc.signalCode !== null) return done(() => reject(new Error(`${argv.join(' ')} exited (${proc.exitCode ?? proc.signalCode}) before ${pattern}:\n${out}`)));
          };
          const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${pattern} from ${argv.join(' ')}:\n${out}`))), timeoutMs);
          const poll = setInterval(check, 50);
          const done = (fn: () => void) => {
            clearTimeout(timer);
            clearInterval(poll);
            fn();
          };
          check();
        }),
      stop: async () => {
        this.#procs.delete(spawned);
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      },
    };
    this.#procs.add(spawned);
    return spawned;
  }

  /** Stops every process and deletes every namespace (their interfaces go with them). */
  async destroy(): Promise<void> {
    await Promise.all([...this.#procs].map((p) => p.stop()));
    this.destroySync();
  }

  destroySync(): void {
    for (const p of this.#procs) p.proc.kill('SIGKILL');
    this.#procs.clear();
    for (const ns of this.namespaces.splice(0).reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe' });
      } catch {
        // already gone
      }
    }
    live.delete(this);
  }

  #ns(role: string): string {
    const ns = this.ns(role);
    sh(['ip', 'netns', 'add', ns]);
    this.namespaces.push(ns);
    this.#in(ns, ['ip', 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A veth from `ns` (named `name`, address `ip`/24) to br0 of the public namespace. */
  #uplink(ns: string, name: string, ip: string): void {
    const [a, b] = this.#ifNames();
    sh(['ip', 'link', 'add', a, 'netns', ns, 'type', 'veth', 'peer', 'name', b, 'netns', this.pub]);
    this.#in(ns, ['ip', 'link', 'set', a, 'name', name]);
    this.#in(ns, ['ip', 'addr', 'add', `${ip}/24`, 'dev', name]);
    this.#in(ns, ['ip', 'link', 'set', name, 'up']);
    this.#in(this.pub, ['ip', 'link', 'set', b, 'master', 'br0']);
    this.#in(this.pub, ['ip', 'link', 'set', b, 'up']);
    this.#downlinks.set(ns, b);
  }

  #ifNames(): [string, string] {
    const n = this.#nextIf++;
    return [`ph${this.id}${n}a`, `ph${this.id}${n}b`];
  }

  #in(ns: string, argv: string[]): void {
    sh(['ip', 'netns', 'exec', ns, ...argv]);
  }
}
