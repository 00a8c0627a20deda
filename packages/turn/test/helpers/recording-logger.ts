import type { TurnLogger } from '../../src/index.js';

export type LogLevel = keyof TurnLogger;
export interface LogLine {
  readonly level: LogLevel;
  readonly obj: object;
  readonly msg: string | undefined;
}

/** A TurnLogger that keeps every line, to assert on levels and messages. */
export function recordingLogger(): TurnLogger & { readonly lines: LogLine[]; at(level: LogLevel): LogLine[] } {
  const lines: LogLine[] = [];
  const record = (level: LogLevel) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  return {
    lines,
    at: (level) => lines.filter((l) => l.level === level),
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
}
