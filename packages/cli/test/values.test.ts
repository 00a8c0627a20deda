import { describe, expect, it } from 'vitest';
import { CliError, parseBoolean, parseCount, parseDuration, parsePort, parseRate, parseTtlSeconds } from '../src/index.js';

describe('parseDuration (milliseconds)', () => {
  it.each([
    ['plain seconds', '90', 90_000],
    ['JSON number is seconds', 45, 45_000],
    ['milliseconds', '500ms', 500],
    ['seconds', '30s', 30_000],
    ['minutes', '15m', 900_000],
    ['hours', '1h', 3_600_000],
    ['days', '2d', 172_800_000],
    ['fraction', '1.5h', 5_400_000],
    ['zero', '0', 0],
    ['surrounding spaces', ' 10s ', 10_000],
  ])('%s: %j → %d', (_name, raw, ms) => {
    expect(parseDuration(raw, '--ttl')).toBe(ms);
  });

  it.each([
    ['empty', ''],
    ['unit only', 'h'],
    ['unknown unit', '3w'],
    ['negative', '-5s'],
    ['space inside', '1 h'],
    ['two units', '1h30m'],
    ['word', 'soon'],
  ])('rejects %s (%j) with bad-value naming the source', (_name, raw) => {
    const err = catchError(() => parseDuration(raw, 'PINHOLE_GRACE'));
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({ code: 'bad-value', exitCode: 2 });
    expect(err.message).toMatch(/^PINHOLE_GRACE: .* is not a duration/);
  });
});

describe('parseTtlSeconds', () => {
  it.each([
    ['30s', 30],
    ['15m', 900],
    ['1h', 3600],
    ['2d', 172_800],
    ['3600', 3600],
  ])('%s → %d s', (raw, s) => expect(parseTtlSeconds(raw, '--ttl')).toBe(s));

  it.each(['0', '500ms', '1500ms', '0s'])('rejects %s (below 1 s or not whole seconds)', (raw) => {
    expect(() => parseTtlSeconds(raw, '--ttl')).toThrow(/--ttl: .* whole number of seconds/);
  });
});

describe('scalar parsers', () => {
  it.each([
    ['0', 0],
    ['8443', 8443],
    ['65535', 65535],
    [443, 443],
  ])('port %j', (raw, n) => expect(parsePort(raw, '--port')).toBe(n));

  it.each(['abc', '-1', '65536', '80.5', '', '0x50', '1e3'])('port rejects %j', (raw) => {
    expect(() => parsePort(raw, '--port')).toThrow(CliError);
  });

  it.each(['0', '-1', 'ten', '1.5'])('count rejects %j', (raw) => expect(() => parseCount(raw, '--max-peers-per-room')).toThrow(CliError));
  it('count accepts 1', () => expect(parseCount('1', 'x')).toBe(1));
  it.each([
    ['0', 0],
    ['2.5', 2.5],
    [10, 10],
  ])('rate %j', (raw, n) => expect(parseRate(raw, '--rate')).toBe(n));
  it.each(['-1', 'fast', 'Infinity'])('rate rejects %j', (raw) => expect(() => parseRate(raw, '--rate')).toThrow(CliError));

  it.each([
    ['1', true],
    ['true', true],
    ['YES', true],
    ['on', true],
    ['0', false],
    ['false', false],
    ['no', false],
    ['off', false],
    ['', false],
  ])('boolean %j → %s', (raw, b) => expect(parseBoolean(raw, 'PINHOLE_NO_TLS')).toBe(b));
  it('boolean rejects other words', () => expect(() => parseBoolean('maybe', 'PINHOLE_NO_TLS')).toThrow(/PINHOLE_NO_TLS: "maybe" is not a boolean/));
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}
