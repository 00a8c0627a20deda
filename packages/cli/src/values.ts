/**
 * Parsers for option values, shared by flags, environment variables and the config file.
 * Each takes the raw value and `where` it came from, and throws a `bad-value` CliError
 * naming that source, so the user sees e.g. `PINHOLE_PORT: "abc" is not a port number`.
 */
import { badValue } from './errors.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;

/**
 * A duration in milliseconds: `500ms`, `30s`, `15m`, `1h`, `2d`, or plain seconds (`90`).
 * Numbers from a JSON config file are seconds too.
 */
export function parseDuration(raw: string | number, where: string): number {
  const text = typeof raw === 'number' ? String(raw) : raw.trim();
  const m = DURATION.exec(text);
  if (!m) throw badValue(where, `${JSON.stringify(raw)} is not a duration (use e.g. 30s, 15m, 1h, 2d or seconds)`);
  const unit = (m[2] ?? 's') as keyof typeof UNIT_MS;
  const ms = Number(m[1]) * UNIT_MS[unit];
  if (!Number.isSafeInteger(Math.round(ms))) throw badValue(where, `${JSON.stringify(raw)} is too long`);
  return Math.round(ms);
}

/** A TTL in whole seconds, at least one second. */
export function parseTtlSeconds(raw: string | number, where: string): number {
  const ms = parseDuration(raw, where);
  if (ms < 1000 || ms % 1000 !== 0) {
    throw badValue(where, `${JSON.stringify(raw)} must be a whole number of seconds, at least 1s`);
  }
  return ms / 1000;
}

function parseInteger(raw: string | number, where: string, what: string): number {
  const text = typeof raw === 'number' ? String(raw) : raw.trim();
  if (!/^\d+$/.test(text)) throw badValue(where, `${JSON.stringify(raw)} is not ${what}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw badValue(where, `${JSON.stringify(raw)} is too large`);
  return n;
}

/** A TCP/UDP port, 0–65535 (0: any free port for listening, or "off" where documented). */
export function parsePort(raw: string | number, where: string): number {
  const n = parseInteger(raw, where, 'a port number');
  if (n > 65_535) throw badValue(where, `${n} is not a port number (0–65535)`);
  return n;
}

/** A UDP port range `LOW-HIGH`, inclusive, 1–65535 (e.g. `40000-40999`). */
export function parsePortRange(raw: string, where: string): [number, number] {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(raw.trim());
  const [low, high] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(low >= 1 && high <= 65_535 && low <= high)) throw badValue(where, `${JSON.stringify(raw)} is not a port range LOW-HIGH within 1–65535 (e.g. 40000-40999)`);
  return [low, high];
}

/** A limit: an integer ≥ 1. */
export function parseCount(raw: string | number, where: string): number {
  const n = parseInteger(raw, where, 'a positive integer');
  if (n < 1) throw badValue(where, `must be at least 1`);
  return n;
}

/** A non-negative rate (per second); may be fractional. */
export function parseRate(raw: string | number, where: string): number {
  const text = typeof raw === 'number' ? String(raw) : raw.trim();
  if (!/^\d+(?:\.\d+)?$/.test(text)) throw badValue(where, `${JSON.stringify(raw)} is not a non-negative number`);
  return Number(text);
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);

/** `1/true/yes/on` or `0/false/no/off` (empty means false), as environment variables spell them. */
export function parseBoolean(raw: string | boolean, where: string): boolean {
  if (typeof raw === 'boolean') return raw;
  const text = raw.trim().toLowerCase();
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  throw badValue(where, `${JSON.stringify(raw)} is not a boolean (use 1/0, true/false)`);
}

/** Comma-separated items, trimmed, empties dropped. */
export function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** One of `choices`. */
export function parseChoice<T extends string>(raw: string, where: string, choices: readonly T[]): T {
  const text = raw.trim();
  if ((choices as readonly string[]).includes(text)) return text as T;
  throw badValue(where, `${JSON.stringify(raw)} is not one of ${choices.join(', ')}`);
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const PERMISSIONS = ['join', 'publish', 'data', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** A URL whose scheme is one of `schemes` (e.g. `turn:`, `turns:`). */
export function parseUrlWithScheme(raw: string, where: string, schemes: readonly string[]): string {
  const text = raw.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (!scheme || !schemes.includes(`${scheme}:`) || text.length === scheme.length + 1) {
    throw badValue(where, `${JSON.stringify(raw)} is not a ${schemes.join(' or ')} URL`);
  }
  return text;
}
