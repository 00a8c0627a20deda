/**
 * The README's commands work as written right after its set-up (`npm ci && npm start`;
 * `npm test` builds too): every line of its ```sh blocks except the npm ones, and every
 * inline `npx pinhole …`, run by bash from the repository root with a PATH that does not
 * have node_modules/.bin (as in the reader's shell; npm adds it for `npm test`). `export`
 * lines carry into the next commands; a `serve` must answer /healthz and is stopped at the
 * end; a `token` must be accepted by that hub. Only ports and $HOME are the test's own.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { freeUdpTcpPorts, get, hello } from '@pinhole/test-kit/cli';

const root = resolve(import.meta.dirname, '..');
const run = promisify(execFile);

/** The commands a reader would type, in README order. */
function readmeCommands(): string[] {
  const text = readFileSync(join(root, 'README.md'), 'utf8');
  const commands: string[] = [];
  for (const [, block = ''] of text.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    for (const raw of block.split('\n')) {
      const line = raw.replace(/\s+#\s.*$/, '').trim();
      if (line !== '' && !/^npm\s/.test(line)) commands.push(line);
    }
  }
  for (const [, inline = ''] of text.matchAll(/`(npx pinhole [^`]+)`/g)) commands.push(inline);
  return commands;
}

let home: string | undefined;
let server: ChildProcess | undefined;

afterEach(async () => {
  // serve runs under npx under bash: signal the whole process group (spawned detached).
  if (server?.pid !== undefined && server.exitCode === null) process.kill(-server.pid, 'SIGKILL');
  server = undefined;
  if (home) rmSync(home, { recursive: true, force: true });
  home = undefined;
});

it('runs every pinhole command of the README as written: serve answers /healthz, token mints a token that hub accepts, --help prints the options', async () => {
  const commands = readmeCommands();
  expect(commands.filter(isServe)).toHaveLength(1);
  expect(commands.filter((c) => /\bpinhole token\b/.test(c))).toHaveLength(1);
  expect(commands.filter((c) => /\bpinhole serve --help$/.test(c))).toHaveLength(1);

  home = mkdtempSync(join(tmpdir(), 'pinhole-readme-'));
  const [port, turnPort, turnTlsPort] = await freeUdpTcpPorts(3);
  const path = (process.env.PATH ?? '').split(delimiter).filter((dir) => !dir.endsWith(join('node_modules', '.bin')));
  const env: Record<string, string> = {
    PATH: path.join(delimiter),
    HOME: home,
    // npx must find the repository's own bin, never fetch a package named pinhole.
    npm_config_offline: 'true',
    npm_config_yes: 'false',
    npm_config_update_notifier: 'false',
    PINHOLE_HOST: '127.0.0.1',
    PINHOLE_PORT: String(port),
    PINHOLE_TURN_PORT: String(turnPort),
    PINHOLE_TURN_TLS_PORT: String(turnTlsPort),
  };
  const bash = (command: string) => run('bash', ['-c', command], { cwd: root, env });

  let ca: string | undefined;
  for (const command of commands) {
    const exported = /^export (\w+)=/.exec(command);
    if (exported) {
      const name = exported[1]!;
      env[name] = (await bash(`${command}; printf %s "$${name}"`)).stdout;
      expect(env[name], command).not.toBe('');
    } else if (isServe(command)) {
      server = spawn('bash', ['-c', command], { cwd: root, env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      server.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      await waitFor(() => stderr.includes(`https://127.0.0.1:${port}/`) || server!.exitCode !== null, 60_000);
      expect(server.exitCode, stderr).toBe(null);
      expect(stderr, 'PINHOLE_SECRET applies').not.toContain('DEV MODE');
      ca = readFileSync(join(home, '.pinhole', 'cert.pem'), 'utf8');
      expect((await get(`https://127.0.0.1:${port}/healthz`, { ca })).status).toBe(200);
    } else if (/\bpinhole token\b/.test(command)) {
      const token = (await bash(command)).stdout.trim();
      expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(ca, 'the README starts a hub before minting a token').toBeDefined();
      const welcome = await hello(`wss://127.0.0.1:${port}/v1/ws`, ca, token);
      expect(welcome.identity).toBe('alice');
    } else {
      const { stdout } = await bash(command);
      if (command.endsWith('--help')) expect(stdout).toContain('--secret');
    }
  }

  expect(server).toBeDefined();
  const exited = new Promise((r) => server!.once('exit', r));
  process.kill(-server!.pid!, 'SIGTERM');
  await exited;
}, 180_000);

/** A command that serves until stopped. */
function isServe(command: string): boolean {
  return /\bpinhole serve\b/.test(command) && !command.includes('--help');
}

async function waitFor(done: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
