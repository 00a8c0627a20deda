/** Helpers for running the CLI in-process with captured output and a controlled env. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliIO } from '../src/index.js';

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
