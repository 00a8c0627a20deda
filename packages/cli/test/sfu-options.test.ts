/**
 * The media server flags of `serve` and `sfu` (options.ts `mediaServer`): each from a flag,
 * `PINHOLE_*` variable or config key, mapped onto the SFU's options (sfuOptionsOf), unset
 * ones left out so the SFU's defaults apply; bad values named by where they came from.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError, resolveOptions, serveOptions } from '../src/index.js';
import { sfuOptions } from '../src/commands/sfu.js';
import { sfuOptionsOf } from '../src/sfu.js';
import { tempDirs } from '@pinhole/test-kit/cli';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const serve = (argv: string[], env: Record<string, string> = {}) => sfuOptionsOf(resolveOptions(serveOptions, ['--data-dir', dirs.make(), ...argv], env, 'serve').values);
const sfu = (argv: string[], env: Record<string, string> = {}) => sfuOptionsOf(resolveOptions(sfuOptions, ['--data-dir', dirs.make(), ...argv], env, 'sfu').values);

describe('media server options', () => {
  it('none given: nothing set, the SFU keeps its defaults', () => {
    expect(serve([])).toEqual({});
    expect(sfu([])).toEqual({});
  });

  it('flags of serve and sfu alike', () => {
    const argv = [
      '--sfu-ports', '40000-40999',
      '--sfu-announce', '203.0.113.7',
      '--sfu-max-publishers-per-room', '8',
      '--sfu-max-subscribers-per-room', '20',
      '--sfu-max-rooms', '3',
      '--sfu-max-forwarded-streams', '400',
    ];
    const want = {
      portRange: [40000, 40999],
      announcedAddress: '203.0.113.7',
      limits: { publishersPerRoom: 8, subscribersPerRoom: 20, rooms: 3, forwardedStreams: 400 },
    };
    expect(serve(argv)).toEqual(want);
    expect(sfu(argv)).toEqual(want);
  });

  it('environment variables and config file keys', () => {
    expect(serve([], { PINHOLE_SFU_PORTS: '50000-50099', PINHOLE_SFU_ANNOUNCE: '2001:db8::7', PINHOLE_SFU_MAX_ROOMS: '9' })).toEqual({
      portRange: [50000, 50099],
      announcedAddress: '2001:db8::7',
      limits: { rooms: 9 },
    });
    const config = join(dirs.make(), 'config.json');
    writeFileSync(config, JSON.stringify({ sfuPorts: '41000-41010', sfuMaxForwardedStreams: 100 }));
    expect(sfu(['--config', config])).toEqual({ portRange: [41000, 41010], limits: { forwardedStreams: 100 } });
  });

  it.each([
    [['--sfu-ports', '40999-40000'], '--sfu-ports'],
    [['--sfu-ports', '0-10'], '--sfu-ports'],
    [['--sfu-ports', '40000'], '--sfu-ports'],
    [['--sfu-ports', '40000-70000'], '--sfu-ports'],
    [['--sfu-announce', 'sfu.example.com'], '--sfu-announce'],
    [['--sfu-max-rooms', '0'], '--sfu-max-rooms'],
    [['--sfu-max-publishers-per-room', 'many'], '--sfu-max-publishers-per-room'],
  ])('%j is refused, naming %s', (argv, where) => {
    let err: unknown;
    try {
      serve(argv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).message).toContain(where);
  });
});
