/** What a command talks to, injectable so tests run commands in-process. */
import type { Env } from './config.js';
import type { StartTurn } from './turn.js';
import type { RunningServe } from './commands/serve.js';
import type { RunningTurn } from './commands/turn-server.js';
import type { SfuService } from '@pinhole/sfu';

export interface Output {
  write(chunk: string): unknown;
}

export interface CliIO {
  /** Command output (tokens, JSON) and, for `serve`, the JSON log. */
  stdout: Output;
  /** Errors and `serve`'s human-readable banner, so stdout stays machine-readable. */
  stderr: Output;
  /** Input for `offer` / `answer` (the remote string, then chat lines); default process.stdin. */
  stdin?: NodeJS.ReadableStream;
  env: Env;
  /** Aborting it stops `serve` / `turn` gracefully, like SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** Whether `serve` / `turn` stop on SIGINT/SIGTERM; default true. */
  handleSignals?: boolean;
  /** Called once `serve` listens (embedding, tests). */
  onServe?: (server: RunningServe) => void;
  /** Called once `sfu` is in its hub (embedding, tests). */
  onSfu?: (service: SfuService) => void;
  /** Called once `turn` listens (embedding, tests). */
  onTurn?: (turn: RunningTurn) => void;
  /** The embedded TURN starter; default `startEmbeddedTurn`. */
  startTurn?: StartTurn;
}

export function defaultIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}
