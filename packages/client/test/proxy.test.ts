/**
 * Signaling through a real HTTP CONNECT proxy (squid) to a hub on HTTPS with a
 * self-signed certificate: every transport tunnels through it when HTTPS_PROXY is set,
 * NO_PROXY bypasses it, and TLS is checked against the given CA (or refused without it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '@pinhole/server';
import { HubSignaler } from '../src/signaling/hub-signaler.js';
import { nodePlatform } from '@pinhole/node';
import type { TransportName } from '../src/signaling/link.js';
import { selfSigned, startTestHub } from '@pinhole/test-kit/hub';
import { until } from '@pinhole/test-kit/wait';
import { Squid } from '@pinhole/test-kit/squid';

let hub: RunningHub;
let squid: Squid;
let cert: { cert: string; key: string };
const env = { HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY };

beforeAll(async () => {
  cert = await selfSigned();
  hub = await startTestHub({ tls: cert });
  squid = await Squid.start();
});

afterAll(async () => {
  process.env.HTTPS_PROXY = env.HTTPS_PROXY ?? '';
  process.env.NO_PROXY = env.NO_PROXY ?? '';
  await hub?.close();
  await squid?.stop();
});

async function pair(transport: TransportName, ca?: string, url = hub.url): Promise<[HubSignaler, HubSignaler]> {
  const make = async (): Promise<HubSignaler> => {
    const s = new HubSignaler(url, { platform: nodePlatform(ca ? { ca } : {}), transports: [transport], reconnect: false, openTimeoutMs: 5000 });
    await s.open();
    return s;
  };
  return [await make(), await make()];
}

describe('through squid (HTTPS_PROXY)', () => {
  for (const transport of ['ws', 'sse', 'poll'] as TransportName[]) {
    it(`${transport}: tunnels through the proxy and trusts the hub's CA`, async () => {
      process.env.HTTPS_PROXY = squid.url;
      process.env.NO_PROXY = '';
      const before = squid.log().split('\n').filter((l) => l.includes('CONNECT')).length;
      const [a, b] = await pair(transport, cert.cert);
      expect(a.transport).toBe(transport);
      await a.join('via-proxy');
      await b.join('via-proxy');
      const got = a.next('signal', 5000);
      b.signal(a.localId, { through: 'squid' });
      expect((await got).data).toEqual({ through: 'squid' });
      await a.close();
      await b.close();
      // squid logs a tunnel when it closes.
      await until(() => squid.log().split('\n').filter((l) => l.includes(`CONNECT 127.0.0.1:${hub.port}`)).length > before, 10_000, 'CONNECT lines in the squid log');
    });
  }

  it('refuses the self-signed hub without its CA (no silent insecurity), accepts it with insecure', async () => {
    process.env.HTTPS_PROXY = squid.url;
    const s = new HubSignaler(hub.url, { platform: nodePlatform(), transports: ['ws', 'sse', 'poll'], reconnect: false, openTimeoutMs: 3000 });
    await expect(s.open()).rejects.toThrow(/could not reach the hub/);
    const t = new HubSignaler(hub.url, { platform: nodePlatform({ insecure: true }), transports: ['sse'], reconnect: false });
    await t.open();
    expect(t.transport).toBe('sse');
    await t.close();
  });

  it('NO_PROXY sends matching hosts direct', async () => {
    process.env.HTTPS_PROXY = squid.url;
    process.env.NO_PROXY = 'localhost';
    for (const transport of ['ws', 'sse'] as TransportName[]) {
      const [a, b] = await pair(transport, cert.cert, `https://localhost:${hub.port}`);
      await a.join('direct');
      await b.join('direct');
      await a.close();
      await b.close();
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(squid.log()).not.toContain('CONNECT localhost:');
  });

  it('an unreachable proxy fails every rung with a clear error', async () => {
    process.env.HTTPS_PROXY = 'http://127.0.0.1:1';
    process.env.NO_PROXY = '';
    const s = new HubSignaler(hub.url, { platform: nodePlatform({ ca: cert.cert }), reconnect: false, openTimeoutMs: 2000 });
    await expect(s.open()).rejects.toThrow(/ws: .*sse: .*poll: /);
  });
});
