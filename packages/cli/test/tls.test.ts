import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CERT_FILE, KEY_FILE, loadOrCreateSelfSigned, loadTlsFiles, selfSignedAltNames } from '../src/index.js';
import { tempDirs } from '@pinhole/test-kit/cli';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

describe('self-signed certificate in the data dir', () => {
  it('is generated once and reused (same fingerprint) on the next start', async () => {
    const dataDir = join(dirs.make(), 'nested', '.pinhole');
    const first = await loadOrCreateSelfSigned({ dataDir, hostname: 'hub-box' });
    expect(first.origin).toBe('self-signed-created');
    expect(existsSync(join(dataDir, CERT_FILE))).toBe(true);
    expect(existsSync(join(dataDir, KEY_FILE))).toBe(true);
    const certBytes = readFileSync(join(dataDir, CERT_FILE), 'utf8');

    const second = await loadOrCreateSelfSigned({ dataDir, hostname: 'hub-box' });
    expect(second.origin).toBe('self-signed-reused');
    expect(second.fingerprint256).toBe(first.fingerprint256);
    expect(second.cert).toBe(certBytes);
    expect(new X509Certificate(second.cert).fingerprint256).toBe(first.fingerprint256);
  });

  it('covers localhost, 127.0.0.1, ::1 and the hostname', async () => {
    const tls = await loadOrCreateSelfSigned({ dataDir: dirs.make(), hostname: 'Hub-Box' });
    const x509 = new X509Certificate(tls.cert);
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkHost('hub-box')).toBe('hub-box');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x509.checkIP('::1')).toBe('::1');
    expect(tls.subjectAltNames).toEqual(expect.arrayContaining(['DNS:localhost', 'DNS:hub-box', 'IP Address:127.0.0.1']));
    expect(x509.ca).toBe(false);
  });

  it('keeps the private key readable by its owner only', async () => {
    const dataDir = dirs.make();
    await loadOrCreateSelfSigned({ dataDir, hostname: 'h' });
    expect(statSync(join(dataDir, KEY_FILE)).mode & 0o077).toBe(0);
  });

  it('is regenerated when it is about to expire', async () => {
    const dataDir = dirs.make();
    const first = await loadOrCreateSelfSigned({ dataDir, hostname: 'h' });
    const later = new Date(first.validTo.getTime() - 86_400_000);
    const renewed = await loadOrCreateSelfSigned({ dataDir, hostname: 'h', now: () => later });
    expect(renewed.origin).toBe('self-signed-created');
    expect(renewed.fingerprint256).not.toBe(first.fingerprint256);
  });

  it('refuses to overwrite half a pair', async () => {
    const dataDir = dirs.make();
    await loadOrCreateSelfSigned({ dataDir, hostname: 'h' });
    unlinkSync(join(dataDir, CERT_FILE));
    await expect(loadOrCreateSelfSigned({ dataDir, hostname: 'h' })).rejects.toMatchObject({
      code: 'bad-tls',
      exitCode: 2,
      message: expect.stringMatching(/key\.pem exists but .*cert\.pem does not/),
    });
  });

  it.each([
    ['plain name', 'box', ['localhost', '127.0.0.1', '::1', 'box']],
    ['localhost is not repeated', 'localhost', ['localhost', '127.0.0.1', '::1']],
    ['not a DNS name (underscore) is left out', 'my_box', ['localhost', '127.0.0.1', '::1']],
    ['FQDN', 'box.lan', ['localhost', '127.0.0.1', '::1', 'box.lan']],
  ])('subjectAltName: %s', (_name, hostname, want) => {
    expect(selfSignedAltNames(hostname).map((n) => n.value ?? n.ip)).toEqual(want);
  });
});

describe('operator certificate files', () => {
  it('loads a matching pair', async () => {
    const src = await loadOrCreateSelfSigned({ dataDir: dirs.make(), hostname: 'h' });
    const tls = loadTlsFiles(src.certPath, src.keyPath);
    expect(tls.origin).toBe('files');
    expect(tls.fingerprint256).toBe(src.fingerprint256);
  });

  it.each([
    ['missing certificate', (a: Paths) => ['/nonexistent/c.pem', a.key], /cannot read --tls-cert \/nonexistent\/c\.pem: no such file/],
    ['missing key', (a: Paths) => [a.cert, '/nonexistent/k.pem'], /cannot read --tls-key \/nonexistent\/k\.pem: no such file/],
    ['certificate is not PEM', (a: Paths) => [a.junk, a.key], /is not a PEM certificate/],
    ['key is not PEM', (a: Paths) => [a.cert, a.junk], /is not a PEM private key/],
    ['key of another certificate', (a: Paths) => [a.cert, a.otherKey], /is not the private key of/],
    ['directory instead of file', (a: Paths) => [a.dir, a.key], /cannot read --tls-cert .*: is a directory/],
  ])('%s → bad-tls, exit 2', async (_name, pick, message) => {
    const a = await pairs();
    const [cert, key] = pick(a) as [string, string];
    let err: unknown;
    try {
      loadTlsFiles(cert, key);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'bad-tls', exitCode: 2, message: expect.stringMatching(message) });
  });
});

interface Paths {
  cert: string;
  key: string;
  otherKey: string;
  junk: string;
  dir: string;
}

async function pairs(): Promise<Paths> {
  const one = await loadOrCreateSelfSigned({ dataDir: dirs.make(), hostname: 'a' });
  const two = await loadOrCreateSelfSigned({ dataDir: dirs.make(), hostname: 'b' });
  const dir = dirs.make();
  const junk = join(dir, 'junk.pem');
  writeFileSync(junk, 'not a pem\n');
  return { cert: one.certPath, key: one.keyPath, otherKey: two.keyPath, junk, dir };
}
