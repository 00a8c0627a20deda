/** The JSON logger `serve` hands to the hub. */
import { pino, type Logger } from 'pino';
import type { Output } from './io.js';
import type { LogLevel } from './values.js';

/** pino at `level`, writing JSON lines to `out` (default: stdout, synchronously). */
export function createLogger(level: LogLevel, out?: Output): Logger {
  const options = { level, base: { name: 'pinhole' } };
  if (out === undefined || out === process.stdout) return pino(options, pino.destination({ fd: 1, sync: true }));
  return pino(options, { write: (line: string) => void out.write(line) });
}
