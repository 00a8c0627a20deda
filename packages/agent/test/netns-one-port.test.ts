/**
 * One port 443 for everything (`pinhole serve --port 443`: HTTPS/WSS, the web app and TURN
 * over TLS on one TCP port), seen from a client whose namespace reaches nothing but a squid
 * proxy that CONNECTs to port 443 only (not even the usual 8443): the web app page, the
 * signaling and the media relay all go through CONNECT to PUBLIC_IP:443. The far side is a
 * second Chromium on the public segment (see netns-tcp-only.test.ts for why not the agent).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectivityReport } from '@pinhole/node';
import { PUBLIC_IP, netnsUnavailable } from '@pinhole/test-kit/netns/topology';
import { ROOM, Scenario } from './netns/scenario.js';
import { chromiumIn, type NamespacedChromium } from '@pinhole/test-kit/netns/chromium';
import { PROXY_ONLY_FIREWALL, PROXY_URL, squidIn } from '@pinhole/test-kit/netns/squid';

const unavailable = netnsUnavailable();
if (unavailable) console.warn(`netns-one-port: skipped, ${unavailable}`);

const HUB = `https://${PUBLIC_IP}`;
const FAR_PEER = 'echo-peer';
/** The built web app the hub serves (a "not built" page otherwise). */
const WEB_BUILT = existsSync(join(dirname(createRequire(import.meta.url).resolve('@pinhole/web/package.json')), 'dist/index.html'));

interface CheckResult {
  echo: unknown;
  report: ConnectivityReport;
  transport: string;
}

describe.skipIf(unavailable !== undefined)(`one port 443 through a proxy that allows CONNECT to 443 only${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let s: Scenario;
  const browsers = new Set<NamespacedChromium>();
  const browserIn = async (ns: string, args: string[] = []) => {
    const b = await chromiumIn(ns, new URL('./netns/browser-peer.ts', import.meta.url), args);
    browsers.add(b);
    return b;
  };

  beforeEach(async () => {
    s = await Scenario.create();
    await s.hub(['--port', '443']);
  }, 60_000);
  afterEach(async () => {
    await Promise.all([...browsers].map((b) => b.close().catch(() => undefined)));
    browsers.clear();
    await s?.destroy();
  });

  it('web app, signaling and media (TURN/TLS) all through CONNECT to PUBLIC_IP:443', async () => {
    const far = await browserIn(s.t.host('far', 12));
    await far.call(`serve(${JSON.stringify(HUB)}, ${JSON.stringify(ROOM)}, ${JSON.stringify(FAR_PEER)})`);
    const squid = await squidIn(s.t, [443]);
    try {
      const ns = s.t.host('proxied', 60);
      s.t.firewall(ns, PROXY_ONLY_FIREWALL);
      // The firewall is real: the one port cannot be reached directly.
      expect(await s.blocked(ns, PUBLIC_IP, 443)).toBe(true);
      const client = await browserIn(ns, [`--proxy-server=${PROXY_URL}`]);

      const r = await client.call<CheckResult>(`check(${JSON.stringify(HUB)}, ${JSON.stringify(ROOM)}, ${JSON.stringify(FAR_PEER)})`);
      console.info(`one port: ${r.report.candidateType.local} over ${r.report.relayProtocol} ↔ ${r.report.candidateType.remote}, signaling ${r.report.transport}`);
      expect(r.echo).toEqual({ from: 'chromium-client' });
      expect(r.report.candidateType.local).toBe('relay');
      expect(r.report.relayProtocol).toBe('tls');
      expect(r.report.transport).toBe('hub/ws');

      // Then the web app's page, from the same port through the proxy (the test page is
      // served by interception, so this is the browser's first request to the hub's page).
      const res = await client.page.goto(`${HUB}/`);
      expect(res?.status()).toBe(WEB_BUILT ? 200 : 503);
      expect((await res?.text())?.toLowerCase()).toMatch(/^<!doctype html/);

      // squid logs each tunnel when it closes: everything went to 443, TURN on 3478 was refused.
      await client.close();
      browsers.delete(client);
      const log = squid.log();
      console.info(`squid:\n${log.trim()}`);
      const ip = PUBLIC_IP.replaceAll('.', '\\.');
      expect(log).toMatch(new RegExp(`TCP_TUNNEL/200 .*CONNECT ${ip}:443`));
      expect(log).not.toMatch(new RegExp(`TCP_TUNNEL/200 .*CONNECT ${ip}:(?!443 )`));
      expect(log).toMatch(new RegExp(`TCP_DENIED/403 .*CONNECT ${ip}:3478`));
    } finally {
      await squid.stop();
    }
  }, 90_000);
});
