/**
 * TLS material for `pinhole serve`: either the operator's files (`--tls-cert`/`--tls-key`)
 * or a self-signed certificate generated once into the data dir and reused on later
 * starts, so a browser exception or a pinned fingerprint survives restarts.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { badTls, reasonOf } from './errors.js';

export const CERT_FILE = 'cert.pem';
export const KEY_FILE = 'key.pem';
/** Lifetime of a generated certificate; it is regenerated when less than `RENEW_BEFORE_MS` is left. */
export const SELF_SIGNED_VALID_DAYS = 365;
export const RENEW_BEFORE_MS = 7 * 86_400_000;

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 fingerprint, `AB:CD:…`, as browsers show it. */
  fingerprint256: string;
  /** Where the certificate came from. */
  origin: 'self-signed-created' | 'self-signed-reused' | 'files';
  certPath: string;
  keyPath: string;
  validTo: Date;
  /** DNS names and IP addresses the certificate is valid for. */
  subjectAltNames: string[];
}

/** Reads and checks an operator-supplied certificate and key. Throws a `bad-tls` CliError. */
export function loadTlsFiles(certPath: string, keyPath: string): TlsMaterial {
  const cert = readPem(certPath, '--tls-cert');
  const key = readPem(keyPath, '--tls-key');
  return { ...inspect(cert, key, certPath, keyPath), cert, key, origin: 'files' };
}

export interface SelfSignedOptions {
  dataDir: string;
  /** The machine's hostname, added to the subjectAltName. */
  hostname?: string;
  /** Injected clock, for expiry checks in tests. */
  now?: () => Date;
}

/**
 * Returns the data dir's self-signed certificate, generating it first if there is none
 * (or it is about to expire). Valid for localhost, 127.0.0.1, ::1 and the hostname.
 */
export async function loadOrCreateSelfSigned(options: SelfSignedOptions): Promise<TlsMaterial> {
  const { dataDir } = options;
  const now = options.now?.() ?? new Date();
  const certPath = join(dataDir, CERT_FILE);
  const keyPath = join(dataDir, KEY_FILE);
  const existing = readExisting(certPath, keyPath);
  if (existing) {
    const material = { ...inspect(existing.cert, existing.key, certPath, keyPath), ...existing, origin: 'self-signed-reused' as const };
    if (material.validTo.getTime() - now.getTime() > RENEW_BEFORE_MS) return material;
  }
  const { cert, key } = await generateSelfSigned(options.hostname ?? osHostname(), now);
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // Key first, each via rename, so a reader never sees a half-written file.
    writeAtomic(keyPath, key, 0o600);
    writeAtomic(certPath, cert, 0o644);
  } catch (err) {
    throw badTls(`cannot write the self-signed certificate to ${dataDir}: ${reasonOf(err)}`, err);
  }
  return { ...inspect(cert, key, certPath, keyPath), cert, key, origin: 'self-signed-created' };
}

/** The subjectAltName entries for a self-signed certificate. */
export function selfSignedAltNames(hostname: string): { type: 2 | 7; value?: string; ip?: string }[] {
  const names: { type: 2 | 7; value?: string; ip?: string }[] = [
    { type: 2, value: 'localhost' },
    { type: 7, ip: '127.0.0.1' },
    { type: 7, ip: '::1' },
  ];
  const host = hostname.trim().toLowerCase();
  // A hostname that is not a valid DNS name (e.g. with '_') would make a bad certificate.
  if (host && host !== 'localhost' && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host)) {
    names.push({ type: 2, value: host });
  }
  return names;
}

async function generateSelfSigned(hostname: string, now: Date): Promise<{ cert: string; key: string }> {
  const notAfterDate = new Date(now.getTime() + SELF_SIGNED_VALID_DAYS * 86_400_000);
  // P-256 ECDSA: generated in milliseconds (RSA-2048 takes up to a second) and accepted by every browser.
  const pems = await generate([{ name: 'commonName', value: `pinhole (${hostname || 'localhost'})` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: selfSignedAltNames(hostname) },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

function readExisting(certPath: string, keyPath: string): { cert: string; key: string } | undefined {
  const cert = readIfExists(certPath);
  const key = readIfExists(keyPath);
  if (cert === undefined && key === undefined) return undefined;
  // Never overwrite half a pair: the missing half may be on its way, or the operator's.
  if (cert === undefined) throw badTls(`${keyPath} exists but ${certPath} does not; remove both to regenerate`);
  if (key === undefined) throw badTls(`${certPath} exists but ${keyPath} does not; remove both to regenerate`);
  return { cert, key };
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw badTls(`cannot read ${path}: ${reasonOf(err)}`, err);
  }
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw badTls(`cannot read ${what} ${path}: ${reasonOf(err)}`, err);
  }
}

function inspect(cert: string, key: string, certPath: string, keyPath: string): Omit<TlsMaterial, 'cert' | 'key' | 'origin'> {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw badTls(`${certPath} is not a PEM certificate: ${reasonOf(err)}`, err);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw badTls(`${keyPath} is not a PEM private key: ${reasonOf(err)}`, err);
  }
  if (!x509.checkPrivateKey(privateKey)) throw badTls(`${keyPath} is not the private key of ${certPath}`);
  return {
    fingerprint256: x509.fingerprint256,
    certPath,
    keyPath,
    validTo: new Date(x509.validTo),
    subjectAltNames: (x509.subjectAltName ?? '').split(', ').filter(Boolean),
  };
}

function writeAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}
