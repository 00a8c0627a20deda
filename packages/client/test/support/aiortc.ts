/**
 * The aiortc peer (test/interop/aiortc_peer.py) as a child process of /usr/bin/python3:
 * its stdout events collected, commands written to its stdin.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { until } from '@pinhole/test-kit/wait';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../interop/aiortc_peer.py', import.meta.url));

export type AiortcEvent = { event: string } & Record<string, unknown>;

/** Throws (never skips) when python3-aiortc or python3-websockets is missing. */
export function requireAiortc(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import aiortc, websockets'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `the aiortc interop test needs ${PYTHON} with aiortc and websockets ` +
        `(apt-get install python3-aiortc python3-websockets; scripts/test.sh installs them): ${probe.error?.message ?? probe.stderr.trim()}`,
    );
  }
}

export class AiortcPeer {
  readonly events: AiortcEvent[] = [];
  readonly #child: ChildProcessWithoutNullStreams;
  #stderr = '';

  constructor(hubUrl: string, room: string, args: string[] = []) {
    const ws = hubUrl.replace(/^http/, 'ws') + '/v1/ws';
    this.#child = spawn(PYTHON, ['-u', SCRIPT, ws, room, ...args]);
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

  /** Waits for an event; on timeout the error carries the peer's stderr and its events so far. */
  async next(event: string, pred: (e: AiortcEvent) => boolean = () => true, timeoutMs = 20_000): Promise<AiortcEvent> {
    try {
      await until(() => !!this.find(event, pred) || this.#child.exitCode !== null, timeoutMs, `aiortc event '${event}'`);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${this.describe()}`);
    }
    const found = this.find(event, pred);
    if (!found) throw new Error(`aiortc peer exited (${this.#child.exitCode}) before '${event}'\nstderr: ${this.#stderr.slice(-4000)}`);
    return found;
  }

  /** Its events so far (without the signals' SDP) and the end of its stderr, for failure messages. */
  describe(): string {
    const events = this.events.map((e) => (e['sdp'] ? { ...e, sdp: '…' } : e));
    return `aiortc events: ${JSON.stringify(events).slice(0, 4000)}\naiortc stderr: ${this.#stderr.slice(-4000)}`;
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
