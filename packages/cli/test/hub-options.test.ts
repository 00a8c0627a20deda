import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildHubOptions, planTurn, resolveOptions, serveOptions } from '../src/index.js';
import { tempDirs } from '@pinhole/test-kit/cli';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());
const logger = pino({ level: 'silent' });
const resolve = (argv: string[], env: Record<string, string> = {}) => resolveOptions(serveOptions, ['--data-dir', dirs.make(), ...argv], env, 'serve');
const build = (argv: string[]) => buildHubOptions(resolve(argv).values, { logger, tls: undefined, turn: undefined, stunUrls: [] });

describe('buildHubOptions', () => {
  it('leaves unset limits out so the hub defaults apply', () => {
    const o = build([]);
    expect(Object.keys(o).sort()).toEqual(['allowedOrigins', 'apiKeys', 'host', 'logger', 'port', 'trustProxy']);
    expect(o).toMatchObject({ host: '0.0.0.0', port: 8443, trustProxy: false, apiKeys: [], allowedOrigins: [] });
  });

  it.each([
    ['--grace', ['--grace', '45s'], { graceMs: 45_000 }],
    ['--heartbeat', ['--heartbeat', '2s'], { heartbeatMs: 2000 }],
    ['--rate sets a 2× burst', ['--rate', '10'], { ratePerSecond: 10, rateBurst: 20 }],
    ['--rate with --rate-burst', ['--rate', '10', '--rate-burst', '15'], { ratePerSecond: 10, rateBurst: 15 }],
    ['--rate 0 is unlimited', ['--rate', '0'], { ratePerSecond: Infinity }],
    ['--origin → allowedOrigins', ['--origin', 'https://a.example'], { allowedOrigins: ['https://a.example'] }],
    ['--secret', ['--secret', 'abc'], { secret: 'abc' }],
    ['--max-write-buffer', ['--max-write-buffer', '65536'], { maxWriteBufferBytes: 65_536 }],
    ['limits', ['--max-peers-per-room', '2', '--max-rooms-per-session', '3', '--max-connections-per-ip', '4'], { maxPeersPerRoom: 2, maxRoomsPerSession: 3, maxConnectionsPerIp: 4 }],
  ])('%s', (_name, argv, want) => {
    expect(build(argv)).toMatchObject(want);
  });
});

describe('planTurn', () => {
  it.each([
    ['default: embedded on 3478', [], {}, { kind: 'embedded', port: 3478, generatedSecret: true }],
    ['--turn-port 0 and no URLs: none', ['--turn-port', '0'], {}, { kind: 'none' }],
    ['external URLs replace the default embedded server', ['--turn-url', 'turn:c.example', '--turn-secret', 't'], {}, { kind: 'external', urls: ['turn:c.example'], secret: 't' }],
    ['external with the hub secret', ['--turn-url', 'turn:c.example', '--secret', 'h'], {}, { kind: 'external', secret: undefined }],
    ['an explicit --turn-port keeps embedded next to external', ['--turn-url', 'turn:c.example', '--turn-secret', 't', '--turn-port', '3479'], {}, { kind: 'embedded', port: 3479, secret: 't', externalUrls: ['turn:c.example'], generatedSecret: false }],
    ['PINHOLE_TURN_PORT counts as explicit', ['--turn-url', 'turn:c.example', '--secret', 'h'], { PINHOLE_TURN_PORT: '3480' }, { kind: 'embedded', port: 3480, secret: 'h' }],
  ])('%s', (_name, argv, env, want) => {
    const r = resolve(argv, env as Record<string, string>);
    expect(planTurn(r.values, r.sources)).toMatchObject(want);
  });
});
