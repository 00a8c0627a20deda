/**
 * The agent through a real hub with node-datachannel peers: echo, info, files (list, stat,
 * download, resume after a cut-short download) and bad input that gets typed errors while
 * the agent keeps serving.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentError } from '../src/index.js';
import { fixture, sha256, tempDir, type Fixture } from './support.js';

const cleanup: (() => unknown)[] = [];
let f: Fixture;
let share: string;
const big = randomBytes(6 * 1024 * 1024 + 123);

beforeAll(async () => {
  share = tempDir(cleanup);
  writeFileSync(join(share, 'big.bin'), big);
  writeFileSync(join(share, 'hello.txt'), 'hello\n');
  mkdirSync(join(share, 'sub'));
  writeFileSync(join(share, 'sub', 'inner.txt'), 'inner');
  const outside = tempDir(cleanup);
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  symlinkSync(outside, join(share, 'escape'));
  f = await fixture({ share }, cleanup);
}, 60_000);

afterAll(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('agent services over data channels', () => {
  it('announces itself in the room meta and answers info', async () => {
    expect(f.client.announcement).toMatchObject({ version: 1, name: 'test-agent', services: ['echo', 'files'] });
    expect(await f.client.info()).toEqual({ id: expect.any(Number), ok: true, version: 1, name: 'test-agent', services: ['echo', 'files'], targets: [] });
  });

  it('echo returns JSON, text and binary of the same kind', async () => {
    expect(await f.client.echo({ n: 1, s: 'x' })).toEqual({ kind: 'json', data: { n: 1, s: 'x' } });
    expect(await f.client.echo('plain')).toEqual({ kind: 'text', data: 'plain' });
    const bin = await f.client.echo(new Uint8Array([0, 1, 2, 255]));
    expect(bin.kind).toBe('binary');
    expect([...(bin.data as Uint8Array)]).toEqual([0, 1, 2, 255]);
  });

  it('lists and stats the share', async () => {
    const root = await f.client.list();
    expect(root.entries.map((e) => [e.name, e.kind])).toEqual([
      ['big.bin', 'file'],
      ['escape', 'dir'],
      ['hello.txt', 'file'],
      ['sub', 'dir'],
    ]);
    expect(root.entries.find((e) => e.name === 'big.bin')?.size).toBe(big.byteLength);
    expect((await f.client.list('/sub')).entries.map((e) => e.name)).toEqual(['inner.txt']);
    expect(await f.client.stat('sub/inner.txt')).toMatchObject({ name: 'inner.txt', kind: 'file', size: 5 });
  });

  it('downloads a file whole; the SHA-256 matches', async () => {
    const dest = join(tempDir(cleanup), 'big.bin');
    const r = await f.client.download('big.bin', dest);
    expect(r).toMatchObject({ offset: 0, size: big.byteLength, bytes: big.byteLength, sha256: sha256(big) });
    expect(sha256(readFileSync(dest))).toBe(sha256(big));
  });

  it('a client that died after writing part of a file resumes from its size', async () => {
    const dest = join(tempDir(cleanup), 'big.bin');
    const prefix = 2 * 1024 * 1024 + 5;
    writeFileSync(dest, big.subarray(0, prefix));
    const r = await f.client.download('big.bin', dest, { offset: 'resume' });
    expect(r).toMatchObject({ offset: prefix, bytes: big.byteLength - prefix, size: big.byteLength, sha256: sha256(big.subarray(prefix)) });
    expect(sha256(readFileSync(dest))).toBe(sha256(big));
  });

  it('a download cancelled by the client keeps its partial file, and resuming completes it', async () => {
    const dest = join(tempDir(cleanup), 'big.bin');
    const first = f.client.download('big.bin', dest, { onTransfer: (t) => t.once('progress', () => t.cancel('cut short')) });
    await expect(first).rejects.toMatchObject({ code: 'cancelled' });
    // How much arrived before the cancel depends on speed; whatever it is, it is kept and resumed from.
    const partial = existsSync(dest) ? statSync(dest).size : 0;
    const second = await f.client.download('big.bin', dest, { offset: 'resume' });
    expect(second.offset).toBe(partial);
    expect(sha256(readFileSync(dest))).toBe(sha256(big));
  });

  it.each([
    { name: '.. in the path', op: 'get', params: { path: '../etc/passwd' }, code: 'bad-path' },
    { name: '.. in the middle', op: 'list', params: { path: 'sub/../../' }, code: 'bad-path' },
    { name: 'a symlink out of the share', op: 'get', params: { path: 'escape/secret.txt' }, code: 'bad-path' },
    { name: 'NUL in the path', op: 'stat', params: { path: 'hello\0.txt' }, code: 'bad-path' },
    { name: 'a missing file', op: 'get', params: { path: 'nope.bin' }, code: 'not-found' },
    { name: 'get of a directory', op: 'get', params: { path: 'sub' }, code: 'not-a-file' },
    { name: 'list of a file', op: 'list', params: { path: 'hello.txt' }, code: 'not-a-directory' },
    { name: 'an offset past the end', op: 'get', params: { path: 'hello.txt', offset: 7 }, code: 'bad-offset' },
    { name: 'a negative offset', op: 'get', params: { path: 'hello.txt', offset: -1 }, code: 'bad-request' },
    { name: 'a path that is not a string', op: 'stat', params: { path: 42 }, code: 'bad-request' },
    { name: 'an unknown op', op: 'delete', params: { path: 'hello.txt' }, code: 'unknown-op' },
  ])('files: $name → $code', async ({ op, params, code }) => {
    const err = await f.client.request('files', op, params).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect(err).toMatchObject({ code });
  });

  it('an unknown service is refused with unknown-service; a bad message gets bad-request; the agent goes on', async () => {
    await expect(f.client.request('shell', 'exec', { cmd: 'id' })).rejects.toMatchObject({ name: 'AgentError', code: 'unknown-service' });
    await expect(f.client.request('agent', 'reboot')).rejects.toMatchObject({ code: 'unknown-op' });
    // Not a request at all: text, binary, a JSON array, an object without op.
    const files = f.client.peer.channel('files');
    const replies: unknown[] = [];
    files.on('message', (m) => m.kind === 'json' && (m.data as { ok?: unknown }).ok === false && replies.push(m.data));
    files.send('not json');
    files.send(new Uint8Array([1, 2]));
    files.send([1, 2, 3]);
    files.send({ id: 5 });
    await expect.poll(() => replies.length, { timeout: 10_000 }).toBe(4);
    for (const r of replies) expect(r).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    // Replies carry the request's id when it had one, else null.
    expect(replies.map((r) => (r as { id: unknown }).id)).toEqual([null, null, null, 5]);
    expect(await f.client.echo('still here')).toEqual({ kind: 'text', data: 'still here' });
    expect((await f.client.stat('hello.txt')).size).toBe(6);
  });
});
