/** Helpers for running the CLI in-process with captured output and a controlled env. */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { WelcomeFrame } from '@pinhole/protocol';
import { runCli, type CliIO, type RunningServe } from '@pinhole/cli';

export interface Captured {
  write(chunk: string): boolean;
  readonly text: string;
}

export function capture(): Captured {
  let text = '';
  return {
    write(chunk: string) {
      text += chunk;
      return true;
    },
    get text() {
      return text;
    },
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `pinhole <argv>` in-process with only `env` visible (never the real PINHOLE_*). */
export async function run(argv: string[], env: Record<string, string> = {}, io: Partial<CliIO> = {}): Promise<RunResult> {
  const stdout = capture();
  const stderr = capture();
  const code = await runCli(argv, { stdout, stderr, env, handleSignals: false, ...io });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A fresh temp dir; `cleanup` removes every dir made so far. */
export function tempDirs(): { make(): string; cleanup(): void } {
  const dirs: string[] = [];
  return {
    make() {
      const dir = mkdtempSync(join(tmpdir(), 'pinhole-cli-'));
      dirs.push(dir);
      return dir;
    },
    cleanup() {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

export interface Served {
  server: RunningServe;
  stdout: Captured;
  stderr: Captured;
  /** Aborts `serve` and resolves with its exit code. */
  stop(): Promise<number>;
}

const running = new Set<Served>();

/** Runs `pinhole serve <argv>` in-process until `stop()`; resolves once it listens. */
export async function startServeCli(argv: string[], env: Record<string, string> = {}, io: Partial<CliIO> = {}): Promise<Served> {
  const abort = new AbortController();
  const stdout = capture();
  const stderr = capture();
  let listening!: (s: RunningServe) => void;
  const served = new Promise<RunningServe>((r) => (listening = r));
  const done = runCli(['serve', ...argv], { stdout, stderr, env, signal: abort.signal, handleSignals: false, onServe: listening, ...io });
  const server = await Promise.race([
    served,
    done.then((code) => {
      throw new Error(`serve exited ${code} before listening: ${stderr.text}`);
    }),
  ]);
  const handle: Served = {
    server,
    stdout,
    stderr,
    stop: () => {
      running.delete(handle);
      abort.abort();
      return done;
    },
  };
  running.add(handle);
  return handle;
}

/** Stops every `serve` a test left running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

export interface HttpResult {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

export interface RequestOptions {
  method?: string;
  body?: string;
  /** The only trusted root when given. */
  ca?: string;
  servername?: string;
  headers?: Record<string, string>;
}

/** One HTTP(S) request, its answer read whole. */
export function request(url: string, options: RequestOptions = {}): Promise<HttpResult> {
  const u = new URL(url);
  const client = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      u,
      { method: options.method ?? 'GET', headers: options.headers, agent: false, ...(u.protocol === 'https:' ? { ca: options.ca, servername: options.servername } : {}) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** GET over http or https; `ca` is the only trusted root when given. */
export function get(url: string, options: Omit<RequestOptions, 'method' | 'body'> = {}): Promise<HttpResult> {
  return request(url, options);
}

/** Ports free for both UDP and TCP on 127.0.0.1 (TURN listens on both). */
export async function freeUdpTcpPorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) {
    const tcp = createServer();
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const port = (tcp.address() as { port: number }).port;
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      udp.once('error', () => r(false));
      udp.bind(port, '127.0.0.1', () => r(true));
    });
    udp.close();
    await new Promise((r) => tcp.close(r));
    if (ok && !ports.includes(port)) ports.push(port);
  }
  return ports;
}

/** Opens a WebSocket, sends `hello`, resolves with `welcome`. */
export function hello(url: string, ca?: string, token?: string): Promise<WelcomeFrame> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ca ? { ca } : {});
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', id: 'h1', ...(token ? { token } : {}) })));
    ws.on('message', (data: WebSocket.RawData) => {
      const frame = JSON.parse(String(data)) as { type: string };
      ws.close();
      if (frame.type === 'welcome') resolve(frame as WelcomeFrame);
      else reject(new Error(`expected welcome, got ${String(data)}`));
    });
    ws.on('error', reject);
  });
}
