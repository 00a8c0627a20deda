import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { restPassword, turnCredentials, verifyRestUsername } from '../src/index.js';
import { coturnBinary } from '@pinhole/test-kit/binaries';
import { freeUdpPort } from '@pinhole/test-kit/ports';
import { parseUclient } from '@pinhole/test-kit/coturn';
import { run, startProcess } from '@pinhole/test-kit/process';
import { startCoturn } from '@pinhole/test-kit/coturn';

const NOW = 1_700_000_000_000;

describe('TURN REST API credentials', () => {
  it('username is `${expiry}:${identity}` and the password base64(HMAC-SHA1(secret, username))', () => {
    const c = turnCredentials('north', 'alice', 600, NOW);
    expect(c).toEqual({ username: '1700000600:alice', credential: 'gthUwOpcRoLI0MMCziCEBOWYnpo=', ttl: 600 });
    // Reference value from `printf '1700000600:alice' | openssl dgst -sha1 -hmac north -binary | base64`.
    expect(restPassword('north', '1700000600:alice')).toBe('gthUwOpcRoLI0MMCziCEBOWYnpo=');
  });

  it('rejects a non-positive ttl', () => {
    expect(() => turnCredentials('s', 'a', 0, NOW)).toThrow(RangeError);
  });

  it.each([
    ['valid', '1700000600:alice', { identity: 'alice', expiresAt: 1700000600 }],
    ['identity containing colons', '1700000600:a:b:c', { identity: 'a:b:c', expiresAt: 1700000600 }],
    ['timestamp only (coturn accepts it too)', '1700000600', { identity: '', expiresAt: 1700000600 }],
    ['expired', '1699999999:alice', undefined],
    ['expiring this very second', '1700000000:alice', undefined],
    ['not a number', 'soon:alice', undefined],
    ['negative', '-5:alice', undefined],
    ['empty', '', undefined],
    ['absurdly long number', '9999999999999:alice', undefined],
  ])('verifyRestUsername: %s', (_name, username, expected) => {
    const verified = verifyRestUsername('north', username, NOW);
    if (expected === undefined) expect(verified).toBeUndefined();
    else expect(verified).toEqual({ ...expected, password: restPassword('north', username) });
  });
});

describe('the same credentials work on coturn (use-auth-secret)', () => {
  it('turnutils_uclient relays through coturn with our turnCredentials; a wrong secret is refused', async () => {
    const uclient = coturnBinary('turnutils_uclient');
    const peerPort = await freeUdpPort();
    const port = await freeUdpPort();
    const coturn = await startCoturn({ port, secret: 'shared-secret', realm: 'pinhole', minPort: 43000, maxPort: 43999, pidFile: join(tmpdir(), `pinhole-coturn-${port}.pid`) });
    const peer = startProcess(coturnBinary('turnutils_peer'), ['-L', '127.0.0.1', '-p', String(peerPort)]);
    try {
      const good = turnCredentials('shared-secret', 'alice', 600);
      const ok = await run(uclient, ['-n', '30', '-m', '1', '-l', '100', '-e', '127.0.0.1', '-r', String(peerPort), '-u', good.username, '-w', good.credential, '-p', String(port), '127.0.0.1']);
      expect(parseUclient(ok.output)?.lossPercent, ok.output).toBe(0);
      const bad = turnCredentials('another-secret', 'alice', 600);
      const refused = await run(uclient, ['-n', '5', '-m', '1', '-e', '127.0.0.1', '-r', String(peerPort), '-u', bad.username, '-w', bad.credential, '-p', String(port), '127.0.0.1']);
      expect(refused.code, refused.output).not.toBe(0);
      expect(refused.output).toMatch(/Cannot complete Allocation/);
    } finally {
      await peer.stop();
      await coturn.stop();
    }
  });
});
