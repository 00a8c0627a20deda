/** Real hubs for client tests: free loopback port, silent logs, optional TLS. */
import { pino } from 'pino';
import { generate } from 'selfsigned';
import { startHub, type HubOptions, type RunningHub } from '@pinhole/server';

export async function startTestHub(options: HubOptions & { port?: number; tls?: { cert: string; key: string } } = {}): Promise<RunningHub> {
  return startHub({ host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), ...options });
}

/** A self-signed certificate for 127.0.0.1 / localhost. */
export async function selfSigned(): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: 'pinhole test' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] }],
  } as never);
  return { cert: pems.cert, key: pems.private };
}
