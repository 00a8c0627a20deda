/**
 * test/interop/aiortc_sfu.py as a child process of /usr/bin/python3: an aiortc client of the
 * SFU written from docs/protocol/ alone. Its stdout events are collected; the last `stats`
 * event holds its decoded frame counts.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { until } from '@pinhole/test-kit/wait';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../interop/aiortc_sfu.py', import.meta.url));

export type AiortcEvent = { event: string } & Record<string, unknown>;
export interface AiortcStats {
  frames: Record<string, { video: number; audio: number }>;
  /** RTP packets received on the subscriber connection, by MID. */
  packets: Record<string, number>;
  subscriberConnections: number;
  offers: number;
  publish: string | null;
  subscribe: string | null;
}

/** Throws (never skips) when python3-aiortc or python3-websockets is missing. */
export function requireAiortc(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import aiortc, websockets'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `the aiortc SFU test needs ${PYTHON} with aiortc and websockets ` +
        `(apt-get install python3-aiortc python3-websockets; scripts/test.sh installs them): ${probe.error?.message ?? probe.stderr.trim()}`,
    );
  }
}

export class AiortcSfuClient {
  readonly events: AiortcEvent[] = [];
  readonly #child: ChildProcessWithoutNullStreams;
  #stderr = '';

  constructor(hubUrl: string, room: string, name: string) {
    const ws = hubUrl.replace(/^http/, 'ws') + '/v1/ws';
    this.#child = spawn(PYTHON, ['-u', SCRIPT, ws, room, '--name', name]);
    createInterface({ input: this.#child.stdout }).on('line', (line) => this.events.push(JSON.parse(line) as AiortcEvent));
    this.#child.stderr.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
  }

  get peerId(): string {
    return this.find('welcome')!['peer'] as string;
  }

  find(event: string, pred: (e: AiortcEvent) => boolean = () => true): AiortcEvent | undefined {
    return this.events.find((e) => e.event === event && pred(e));
  }

  all(event: string): AiortcEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  /** The latest stats report (zeros before the first). */
  stats(): AiortcStats {
    const last = this.events.findLast((e) => e.event === 'stats');
    return (last as unknown as AiortcStats | undefined) ?? { frames: {}, packets: {}, subscriberConnections: 0, offers: 0, publish: null, subscribe: null };
  }

  /** Decoded frames of `kind` from `publisher` so far. */
  frames(publisher: string, kind: 'video' | 'audio' = 'video'): number {
    return this.stats().frames[publisher]?.[kind] ?? 0;
  }

  /** Waits for a condition on this client; on timeout the error carries its events and stderr. */
  async until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    try {
      await until(() => cond() || this.#child.exitCode !== null, timeoutMs, what);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${this.describe()}`);
    }
    if (!cond()) throw new Error(`aiortc client exited (${this.#child.exitCode}) before ${what}\n${this.describe()}`);
  }

  async next(event: string, pred: (e: AiortcEvent) => boolean = () => true, timeoutMs = 20_000): Promise<AiortcEvent> {
    await this.until(() => !!this.find(event, pred), timeoutMs, `aiortc event '${event}'`);
    return this.find(event, pred)!;
  }

  /** Its events so far (the latest stats only) and the end of its stderr, for failure messages. */
  describe(): string {
    const events = this.events.filter((e) => e.event !== 'stats').map((e) => (e['sdp'] ? { ...e, sdp: '…' } : e));
    return `aiortc events: ${JSON.stringify([...events, this.stats()]).slice(0, 4000)}\naiortc stderr: ${this.#stderr.slice(-4000)}`;
  }

  command(command: Record<string, unknown>): void {
    this.#child.stdin.write(JSON.stringify(command) + '\n');
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.kill('SIGKILL');
    await exited;
  }
}
