/** `pinhole token` and `pinhole turn-credentials`, checked with independent implementations. */
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyToken } from '@pinhole/server';
import { run, tempDirs } from '@pinhole/test-kit/cli';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());
const key = (secret: string) => new TextEncoder().encode(secret);

describe('pinhole token', () => {
  it.each([
    ['all claims', ['--room', 'team-*', '--perms', 'join,publish,data,admin', '--ttl', '2h'], { room: 'team-*', perms: ['join', 'publish', 'data', 'admin'] }, 7200],
    ['one room, default perms, default ttl', ['--room', 'lobby'], { room: 'lobby' }, 3600],
    ['no room (any room)', ['--ttl', '90'], {}, 90],
    ['repeated --perms', ['--perms', 'join', '--perms', 'data', '--ttl', '15m'], { perms: ['join', 'data'] }, 900],
  ])('%s: verifies with jose and carries the claims', async (_name, args, claims, ttl) => {
    const secret = 'token-secret-0123456789abcdef0123';
    const before = Math.floor(Date.now() / 1000);
    const r = await run(['token', '--identity', 'ann', ...args, '--secret', secret, '--data-dir', dirs.make()]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const jwt = r.stdout.trim();
    expect(decodeProtectedHeader(jwt)).toMatchObject({ alg: 'HS256' });
    const { payload } = await jwtVerify(jwt, key(secret), { algorithms: ['HS256'] });
    expect(payload.sub).toBe('ann');
    expect(payload.room).toEqual((claims as { room?: string }).room);
    expect(payload.perms).toEqual((claims as { perms?: string[] }).perms);
    expect(payload.exp! - payload.iat!).toBe(ttl);
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    await expect(jwtVerify(jwt, key('another-secret'))).rejects.toThrow();
  });

  it('--service mints a service token (svc claim) the hub verifies as one; a bad kind is a usage error', async () => {
    const secret = 'token-secret-0123456789abcdef0123';
    const r = await run(['token', '--identity', 'sfu', '--service', 'sfu', '--perms', 'join,data', '--secret', secret, '--data-dir', dirs.make()]);
    expect(r.code).toBe(0);
    const { payload } = await jwtVerify(r.stdout.trim(), key(secret), { algorithms: ['HS256'] });
    expect(payload).toMatchObject({ sub: 'sfu', svc: 'sfu', perms: ['join', 'data'] });
    expect((await verifyToken(secret, r.stdout.trim(), Date.now())).service).toBe('sfu');
    const bad = await run(['token', '--identity', 'x', '--service', 'SFU!', '--secret', secret, '--data-dir', dirs.make()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--service/);
  });

  it.each([
    ['env', [], { PINHOLE_SECRET: 'env-secret' }, 'env-secret'],
    ['config file', ['--config', 'FILE'], {}, 'file-secret'],
    ['flag over env', ['--secret', 'flag-secret'], { PINHOLE_SECRET: 'env-secret' }, 'flag-secret'],
  ])('takes the secret from %s; the hub accepts the token', async (_name, args, env, secret) => {
    const dir = dirs.make();
    const config = join(dir, 'pinhole.json');
    writeFileSync(config, JSON.stringify({ secret: 'file-secret', port: 9999 }));
    const argv = ['token', '--identity', 'bob', '--room', 'r1', '--data-dir', dir, ...args.map((a) => (a === 'FILE' ? config : a))];
    const r = await run(argv, env as Record<string, string>);
    expect(r.code).toBe(0);
    const grant = await verifyToken(secret, r.stdout.trim(), Date.now());
    expect(grant.identity).toBe('bob');
    expect(grant.room?.test('r1')).toBe(true);
  });

  it('reads the secret from <data-dir>/config.json', async () => {
    const dataDir = dirs.make();
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ secret: 'dd-secret' }));
    const r = await run(['token', '--identity', 'cy', '--data-dir', dataDir]);
    expect(r.code).toBe(0);
    await expect(jwtVerify(r.stdout.trim(), key('dd-secret'))).resolves.toBeTruthy();
  });
});

describe('pinhole turn-credentials', () => {
  it('prints {username, credential, ttl} with credential = base64(HMAC-SHA1(secret, username))', async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await run(['turn-credentials', '--identity', 'ann', '--ttl', '1h', '--secret', 'turn-s', '--data-dir', dirs.make()]);
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith('\n')).toBe(true);
    const out = JSON.parse(r.stdout) as { username: string; credential: string; ttl: number; urls?: string[] };
    expect(Object.keys(out).sort()).toEqual(['credential', 'ttl', 'username']);
    expect(out.ttl).toBe(3600);
    const [expiry, identity] = out.username.split(':');
    expect(identity).toBe('ann');
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 3600);
    expect(Number(expiry)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3600);
    expect(out.credential).toBe(createHmac('sha1', 'turn-s').update(out.username).digest('base64'));
  });

  it('prefers --turn-secret over --secret and includes configured TURN URLs', async () => {
    const r = await run(
      ['turn-credentials', '--identity', 'dev-1', '--ttl', '30s', '--secret', 'hub', '--turn-url', 'turn:t.example:3478', '--data-dir', dirs.make()],
      { PINHOLE_TURN_SECRET: 'coturn' },
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { username: string; credential: string; ttl: number; urls: string[] };
    expect(out.ttl).toBe(30);
    expect(out.urls).toEqual(['turn:t.example:3478']);
    expect(out.credential).toBe(createHmac('sha1', 'coturn').update(out.username).digest('base64'));
  });
});
