import { writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError, resolveOptions, serveOptions, tokenOptions, type Source } from '../src/index.js';
import { run, tempDirs } from '@pinhole/test-kit/cli';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

function writeConfig(values: unknown, name = 'config.json', dir = dirs.make()): string {
  const path = join(dir, name);
  writeFileSync(path, typeof values === 'string' ? values : JSON.stringify(values));
  return path;
}

interface PrecedenceCase {
  key: keyof typeof serveOptions;
  flag: string[];
  env: Record<string, string>;
  file: Record<string, unknown>;
  /** Expected value when the winning layer is flag, env, file, default. */
  expect: [unknown, unknown, unknown, unknown];
}

const cases: PrecedenceCase[] = [
  { key: 'port', flag: ['--port', '1001'], env: { PINHOLE_PORT: '1002' }, file: { port: 1003 }, expect: [1001, 1002, 1003, 8443] },
  { key: 'host', flag: ['--host', '10.0.0.1'], env: { PINHOLE_HOST: '10.0.0.2' }, file: { host: '10.0.0.3' }, expect: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '0.0.0.0'] },
  { key: 'secret', flag: ['--secret', 'from-flag'], env: { PINHOLE_SECRET: 'from-env' }, file: { secret: 'from-file' }, expect: ['from-flag', 'from-env', 'from-file', undefined] },
  {
    key: 'apiKeys',
    flag: ['--api-key', 'f1', '--api-key', 'f2'],
    env: { PINHOLE_API_KEYS: 'e1, e2' },
    file: { apiKeys: ['c1'] },
    expect: [['f1', 'f2'], ['e1', 'e2'], ['c1'], []],
  },
  {
    key: 'origins',
    flag: ['--origin', 'https://flag.example'],
    env: { PINHOLE_ORIGINS: 'https://env.example,https://env2.example' },
    file: { origins: 'https://file.example' },
    expect: [['https://flag.example'], ['https://env.example', 'https://env2.example'], ['https://file.example'], []],
  },
  // env '0' is a real value (false) that beats the file's true.
  { key: 'noTls', flag: ['--no-tls'], env: { PINHOLE_NO_TLS: '0' }, file: { noTls: true }, expect: [true, false, true, false] },
  { key: 'trustProxy', flag: ['--trust-proxy'], env: { PINHOLE_TRUST_PROXY: 'false' }, file: { trustProxy: true }, expect: [true, false, true, false] },
  { key: 'turnPort', flag: ['--turn-port', '0'], env: { PINHOLE_TURN_PORT: '3479' }, file: { turnPort: 3480 }, expect: [0, 3479, 3480, 3478] },
  {
    key: 'turnUrls',
    flag: ['--turn-url', 'turn:a.example:3478', '--turn-url', 'turns:a.example:5349'],
    env: { PINHOLE_TURN_URLS: 'turn:b.example' },
    file: { turnUrls: ['turn:c.example'] },
    expect: [['turn:a.example:3478', 'turns:a.example:5349'], ['turn:b.example'], ['turn:c.example'], []],
  },
  { key: 'turnSecret', flag: ['--turn-secret', 'tf'], env: { PINHOLE_TURN_SECRET: 'te' }, file: { turnSecret: 'tc' }, expect: ['tf', 'te', 'tc', undefined] },
  { key: 'stunUrls', flag: ['--stun-url', 'stun:f'], env: { PINHOLE_STUN_URLS: 'stun:e' }, file: { stunUrls: ['stun:c'] }, expect: [['stun:f'], ['stun:e'], ['stun:c'], []] },
  { key: 'logLevel', flag: ['--log-level', 'debug'], env: { PINHOLE_LOG_LEVEL: 'warn' }, file: { logLevel: 'silent' }, expect: ['debug', 'warn', 'silent', 'info'] },
  { key: 'grace', flag: ['--grace', '5s'], env: { PINHOLE_GRACE: '2m' }, file: { grace: 90 }, expect: [5_000, 120_000, 90_000, undefined] },
  { key: 'maxPeersPerRoom', flag: ['--max-peers-per-room', '2'], env: { PINHOLE_MAX_PEERS_PER_ROOM: '3' }, file: { maxPeersPerRoom: 4 }, expect: [2, 3, 4, undefined] },
  { key: 'maxRoomsPerSession', flag: ['--max-rooms-per-session', '5'], env: { PINHOLE_MAX_ROOMS_PER_SESSION: '6' }, file: { maxRoomsPerSession: 7 }, expect: [5, 6, 7, undefined] },
  { key: 'maxConnectionsPerIp', flag: ['--max-connections-per-ip', '8'], env: { PINHOLE_MAX_CONNECTIONS_PER_IP: '9' }, file: { maxConnectionsPerIp: 10 }, expect: [8, 9, 10, undefined] },
  { key: 'rate', flag: ['--rate', '20'], env: { PINHOLE_RATE: '0' }, file: { rate: 2.5 }, expect: [20, 0, 2.5, undefined] },
  { key: 'tlsCert', flag: ['--tls-cert', '/f.pem'], env: { PINHOLE_TLS_CERT: '/e.pem' }, file: { tlsCert: '/c.pem' }, expect: ['/f.pem', '/e.pem', '/c.pem', undefined] },
];

const layers: Source[] = ['flag', 'env', 'file', 'default'];
const table = cases.flatMap((c) => layers.map((layer, i) => ({ name: `${c.key} from ${layer}`, layer, c, want: c.expect[i] })));

describe('precedence: flag > env > config file > default', () => {
  it.each(table)('$name', ({ layer, c, want }) => {
    const rank = layers.indexOf(layer);
    const config = writeConfig(rank <= 2 ? c.file : {});
    const argv = [...(rank <= 0 ? c.flag : []), '--config', config];
    const env = rank <= 1 ? c.env : {};
    const { values, sources } = resolveOptions(serveOptions, argv, env, 'serve');
    expect(values[c.key]).toEqual(want);
    expect(sources[c.key]).toBe(layer);
  });
});

describe('config file location', () => {
  it('--config beats PINHOLE_CONFIG, which beats <data-dir>/config.json', () => {
    const dataDir = dirs.make();
    writeConfig({ port: 1 }, 'config.json', dataDir);
    const viaEnv = writeConfig({ port: 2 });
    const viaFlag = writeConfig({ port: 3 });
    const port = (argv: string[], env: Record<string, string>) => resolveOptions(serveOptions, argv, env, 'serve').values.port;
    expect(port(['--data-dir', dataDir], {})).toBe(1);
    expect(port([], { PINHOLE_DATA_DIR: dataDir })).toBe(1);
    expect(port(['--data-dir', dataDir], { PINHOLE_CONFIG: viaEnv })).toBe(2);
    expect(port(['--data-dir', dataDir, '--config', viaFlag], { PINHOLE_CONFIG: viaEnv })).toBe(3);
  });

  it('a data dir without config.json is fine', () => {
    const r = resolveOptions(serveOptions, ['--data-dir', dirs.make()], {}, 'serve');
    expect(r.file).toBeUndefined();
    expect(r.values.port).toBe(8443);
  });

  it('one file serves every command: serve keys are allowed when running token', () => {
    const config = writeConfig({ secret: 's3', port: 9000, noTls: true });
    const r = resolveOptions(tokenOptions, ['--config', config, '--identity', 'ann'], {}, 'token');
    expect(r.values.secret).toBe('s3');
    expect(r.sources.secret).toBe('file');
  });

  it('an empty environment variable counts as unset', () => {
    const r = resolveOptions(serveOptions, ['--data-dir', dirs.make()], { PINHOLE_PORT: '', PINHOLE_SECRET: '' }, 'serve');
    expect(r.values.port).toBe(8443);
    expect(r.values.secret).toBeUndefined();
  });

  it('PINHOLE_* variables of no option are ignored (other tools share the prefix)', () => {
    expect(() => resolveOptions(serveOptions, ['--data-dir', dirs.make()], { PINHOLE_HUB_URL: 'x' }, 'serve')).not.toThrow();
  });

  it('--help skips validation of everything else', () => {
    const r = resolveOptions(serveOptions, ['--port', 'nope', '--help'], { PINHOLE_PORT: 'bad' }, 'serve');
    expect(r.help).toBe(true);
  });

  it.each([
    ['missing file', () => join(dirs.make(), 'nope.json'), /cannot read config file .*nope\.json: no such file/],
    ['not JSON', () => writeConfig('{ port: 1 '), /is not valid JSON/],
    ['not an object', () => writeConfig('[1,2]'), /must hold a JSON object/],
    ['unknown key', () => writeConfig({ prot: 8443 }), /unknown key "prot"/],
    ['per-invocation key', () => writeConfig({ identity: 'ann' }), /unknown key "identity"/],
  ])('bad config file: %s → bad-config', (_name, make, message) => {
    const err = catchCliError(() => resolveOptions(serveOptions, ['--config', make()], {}, 'serve'));
    expect(err).toMatchObject({ code: 'bad-config', exitCode: 2 });
    expect(err.message).toMatch(message);
  });

  it('a wrongly typed value in the file names the file and key', () => {
    const config = writeConfig({ port: 'http' });
    const err = catchCliError(() => resolveOptions(serveOptions, ['--config', config], {}, 'serve'));
    expect(err).toMatchObject({ code: 'bad-value', exitCode: 2 });
    expect(err.message).toBe(`${config}: port: "http" is not a port number`);
  });
});

describe('bad input exits 2 with one line on stderr', () => {
  const dataDir = () => ['--data-dir', dirs.make()];
  it.each([
    ['non-numeric port', ['serve', '--port', 'abc'], {}, /^pinhole: --port: "abc" is not a port number$/],
    ['port out of range', ['serve', '--port', '70000'], {}, /--port: 70000 is not a port number/],
    ['port from env', ['serve'], { PINHOLE_PORT: 'eighty' }, /^pinhole: PINHOLE_PORT: "eighty" is not a port number$/],
    ['unknown flag', ['serve', '--prot', '1'], {}, /^pinhole: unknown option --prot \(see 'pinhole serve --help'\)$/],
    ['missing flag value', ['serve', '--port'], {}, /^pinhole: option --port needs a value \(see 'pinhole serve --help'\)$/],
    ['flag value looks like a flag', ['serve', '--port', '--host', 'x'], {}, /option --port needs a value/],
    ['boolean flag with a value', ['serve', '--no-tls=yes'], {}, /option --no-tls takes no value/],
    ['unexpected argument', ['serve', 'now'], {}, /unexpected argument 'now'/],
    ['unknown command', ['srve'], {}, /^pinhole: unknown command 'srve'/],
    ['unknown global option', ['--verbose'], {}, /^pinhole: unknown option --verbose/],
    ['bad log level', ['serve', '--log-level', 'loud'], {}, /--log-level: "loud" is not one of fatal, error, warn, info, debug, trace, silent/],
    ['bad boolean env', ['serve'], { PINHOLE_NO_TLS: 'maybe' }, /PINHOLE_NO_TLS: "maybe" is not a boolean/],
    ['bad duration', ['serve', '--grace', '5x'], {}, /--grace: "5x" is not a duration/],
    ['zero limit', ['serve', '--max-peers-per-room', '0'], {}, /--max-peers-per-room: must be at least 1/],
    ['non-TURN url', ['serve', '--turn-url', 'https://turn.example'], {}, /--turn-url: "https:\/\/turn.example" is not a turn: or turns: URL/],
    ['TURN url without any secret', ['serve', '--turn-url', 'turn:t.example'], {}, /--turn-url needs --turn-secret/],
    ['cert without key', ['serve', '--tls-cert', '/nonexistent/cert.pem'], {}, /--tls-cert and --tls-key go together/],
    ['--no-tls with a cert', ['serve', '--no-tls', '--tls-cert', 'a', '--tls-key', 'b'], {}, /--no-tls contradicts/],
    ['unreadable cert', ['serve', '--tls-cert', '/nonexistent/cert.pem', '--tls-key', '/nonexistent/key.pem'], {}, /^pinhole: cannot read --tls-cert \/nonexistent\/cert.pem: no such file$/],
    ['token without secret', ['token', '--identity', 'ann'], {}, /^pinhole: no secret: pass --secret/],
    ['token without identity', ['token', '--secret', 's'], {}, /--identity is required/],
    ['token with bad ttl', ['token', '--identity', 'a', '--secret', 's', '--ttl', 'forever'], {}, /--ttl: "forever" is not a duration/],
    ['token with bad perm', ['token', '--identity', 'a', '--secret', 's', '--perms', 'join,fly'], {}, /--perms: "fly" is not one of join, publish, data, admin/],
    ['turn-credentials without secret', ['turn-credentials', '--identity', 'ann'], {}, /^pinhole: no secret: pass --turn-secret or --secret/],
  ])('%s', async (_name, argv, env, message) => {
    const [cmd, ...rest] = argv as [string, ...string[]];
    const known = ['serve', 'token', 'turn-credentials'].includes(cmd);
    const r = await run(known ? [cmd, ...dataDir(), ...rest] : argv, env as Record<string, string>);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });

  it('no command prints the usage to stderr and exits 2', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pinhole \S+ — /);
  });
});

describe('help and version', () => {
  it.each([['--help'], ['-h'], ['help']])('%s lists the commands', async (flag) => {
    const r = await run([flag]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: pinhole <command>/);
    for (const c of ['serve', 'token', 'turn-credentials']) expect(r.stdout).toContain(`  ${c}`);
  });

  it.each([
    ['serve', ['--port PORT', 'PINHOLE_PORT', '--no-tls', 'PINHOLE_API_KEYS', '--api-key KEY', '--turn-port PORT', 'default 3478', 'default 8443', 'config "maxPeersPerRoom"']],
    ['token', ['--identity ID', '--room ROOM', '--ttl DURATION', '--perms LIST', 'PINHOLE_SECRET']],
    ['turn-credentials', ['--identity ID', '--turn-secret S', 'PINHOLE_TURN_SECRET']],
  ])('%s --help documents its options', async (cmd, needles) => {
    for (const argv of [[cmd, '--help'], ['help', cmd]]) {
      const r = await run(argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: pinhole ${cmd}`);
      for (const n of needles) expect(r.stdout).toContain(n);
    }
  });

  it.each([['--version'], ['-V']])('%s prints the package version', async (flag) => {
    const r = await run([flag]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('0.1.0\n');
  });
});

function catchCliError(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CliError) return err;
    throw err;
  }
  throw new Error('expected a CliError');
}

describe('paths', () => {
  it('a relative path in the config file is relative to that file; ~ is the home directory', () => {
    const dir = dirs.make();
    const config = writeConfig({ tlsCert: 'certs/fullchain.pem', tlsKey: '/etc/k.pem', dataDir: '~/pinhole-data' }, 'config.json', dir);
    const { values } = resolveOptions(serveOptions, ['--config', config], {}, 'serve');
    expect(values.tlsCert).toBe(join(dir, 'certs/fullchain.pem'));
    expect(values.tlsKey).toBe('/etc/k.pem');
    expect(values.dataDir).toBe(join(homedir(), 'pinhole-data'));
  });

  it('relative paths from flags and env stay relative to the working directory', () => {
    const config = writeConfig({});
    const { values } = resolveOptions(serveOptions, ['--config', config, '--tls-cert', 'c.pem'], { PINHOLE_TLS_KEY: 'k.pem' }, 'serve');
    expect(values.tlsCert).toBe('c.pem');
    expect(values.tlsKey).toBe('k.pem');
  });
});
