/**
 * Clients where only TCP gets out (ARCHITECTURE.md "Test topologies"), all real processes:
 * `pinhole serve` (hub + embedded TURN on UDP/TCP 3478 and TLS 443) on the public segment,
 * Chromium in the client's namespace:
 * - UDP blocked: the client's namespace drops every UDP packet it sends → TURN over TCP or TLS;
 * - proxy-only: the client's namespace reaches nothing but a squid proxy that CONNECTs to
 *   HTTPS ports only → signaling through CONNECT, media through TURN/TLS on 443 through it;
 * - and, with UDP, Chromium ↔ `pinhole agent` when the agent may send to nothing but the hub.
 *
 * In the first two the far side is a second Chromium on the public segment running the
 * agent's own echo service code (netns/browser-peer.ts), not `pinhole agent`: a
 * node-datachannel peer cannot take a Chromium relay today. Chromium 156 sends the
 * connectivity checks of its TURN allocations with an ICE-CONTROLLING/ICE-CONTROLLED
 * tiebreaker of 0 (legal, RFC 8445 §16.1), and libjuice (node-datachannel 0.33) takes a 0
 * for a missing attribute and answers 400 Bad Request, on which Chromium kills the pair
 * (libjuice issue #355).
 * chromium-relay-libjuice.test.ts pins that down on loopback.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectivityReport } from '@pinhole/node';
import { PUBLIC_IP, netnsUnavailable } from '@pinhole/test-kit/netns/topology';
import { HUB_URL, ROOM, Scenario, egressOnly } from './netns/scenario.js';
import { chromiumIn, type NamespacedChromium } from '@pinhole/test-kit/netns/chromium';
import { PROXY_ONLY_FIREWALL, PROXY_URL, squidIn } from '@pinhole/test-kit/netns/squid';

const unavailable = netnsUnavailable();
if (unavailable) console.warn(`netns-tcp-only: skipped, ${unavailable}`);

const FAR_PEER = 'echo-peer';

interface CheckResult {
  echo: unknown;
  report: ConnectivityReport;
  transport: string;
}

describe.skipIf(unavailable !== undefined)(`Chromium clients where only TCP gets out${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let s: Scenario;
  const browsers = new Set<NamespacedChromium>();
  const browserIn = async (ns: string, args: string[] = []) => {
    const b = await chromiumIn(ns, new URL('./netns/browser-peer.ts', import.meta.url), args);
    browsers.add(b);
    return b;
  };
  /** The far peer: Chromium on the public segment (with UDP) serving `echo`. */
  const farPeer = async () => {
    const far = await browserIn(s.t.host('far', 12));
    await far.call(`serve(${JSON.stringify(HUB_URL)}, ${JSON.stringify(ROOM)}, ${JSON.stringify(FAR_PEER)})`);
  };
  const check = (b: NamespacedChromium, target = FAR_PEER) => b.call<CheckResult>(`check(${JSON.stringify(HUB_URL)}, ${JSON.stringify(ROOM)}, ${JSON.stringify(target)})`);

  // A topology per attempt, so a retry starts from fresh namespaces.
  beforeEach(async () => {
    s = await Scenario.create();
    await s.hub();
  }, 60_000);
  afterEach(async () => {
    // Browsers first: a namespace stays alive while a process in it runs.
    await Promise.all([...browsers].map((b) => b.close().catch(() => undefined)));
    browsers.clear();
    await s?.destroy();
  });

  it('UDP blocked: echo through TURN over TCP or TLS, and the report says so', async () => {
    await farPeer();
    const ns = s.t.host('udpless', 50);
    s.t.firewall(ns, `table inet noudp {
      counter udp_dropped {}
      chain output { type filter hook output priority filter;
        oif "lo" accept
        meta l4proto udp counter name udp_dropped drop
      }
    }`);
    const client = await browserIn(ns);
    const r = await check(client);
    console.info(`UDP blocked: ${r.report.candidateType.local} over ${r.report.relayProtocol} ↔ ${r.report.candidateType.remote}, signaling ${r.report.transport}`);
    expect(r.echo).toEqual({ from: 'chromium-client' });
    expect(r.report.candidateType.local).toBe('relay');
    expect(['tcp', 'tls']).toContain(r.report.relayProtocol);
    // Chromium did try UDP (STUN/TURN over UDP), and the firewall dropped it.
    expect(s.t.counter(ns, 'inet', 'noudp', 'udp_dropped')).toBeGreaterThan(0);
  }, 60_000);

  it('proxy-only: signaling through CONNECT, media through TURN/TLS on 443 tunnelled by the same proxy', async () => {
    await farPeer();
    const squid = await squidIn(s.t, [443, 8443]);
    try {
      const ns = s.t.host('proxied', 60);
      s.t.firewall(ns, PROXY_ONLY_FIREWALL);
      // The firewall is real: neither the hub nor TURN/TLS can be reached directly.
      expect(await s.blocked(ns, PUBLIC_IP, 8443)).toBe(true);
      expect(await s.blocked(ns, PUBLIC_IP, 443)).toBe(true);
      const client = await browserIn(ns, [`--proxy-server=${PROXY_URL}`]);
      const r = await check(client);
      console.info(`proxy-only: ${r.report.candidateType.local} over ${r.report.relayProtocol} ↔ ${r.report.candidateType.remote}, signaling ${r.report.transport}`);
      expect(r.echo).toEqual({ from: 'chromium-client' });
      expect(r.report.candidateType.local).toBe('relay');
      expect(r.report.relayProtocol).toBe('tls');
      // squid logs a tunnel when it closes.
      await client.close();
      browsers.delete(client);
      const log = squid.log();
      console.info(`squid:\n${log.trim()}`);
      const ip = PUBLIC_IP.replaceAll('.', '\\.');
      expect(log).toMatch(new RegExp(`TCP_TUNNEL/200 .*CONNECT ${ip}:8443`));
      expect(log).toMatch(new RegExp(`TCP_TUNNEL/200 .*CONNECT ${ip}:443`));
      // Chromium tried TURN over TCP on 3478 through the proxy too; the proxy refused it.
      expect(log).toMatch(new RegExp(`TCP_DENIED/403 .*CONNECT ${ip}:3478`));
    } finally {
      await squid.stop();
    }
  }, 60_000);

  it('with UDP, Chromium reaches `pinhole agent` itself when the agent may send to nothing but the hub (TURN carries it)', async () => {
    // The hub's address is also where every relayed address lives: a working pair has a
    // TURN relay on one side (Chromium's or the agent's; the agent's may show as prflx).
    const agentNs = s.t.host('agent', 13);
    s.t.firewall(agentNs, egressOnly(PUBLIC_IP));
    const agent = await s.agent(agentNs);
    const client = await browserIn(s.t.host('udp-client', 70));
    const r = await check(client, 'box');
    const { local, remote } = r.report.candidateType;
    console.info(`Chromium ↔ egress-to-hub agent: client sees ${local} ↔ ${remote}`);
    expect(r.echo).toEqual({ from: 'chromium-client' });
    expect([local, remote].some((t) => t === 'relay' || t === 'prflx')).toBe(true);
    expect([local, remote]).not.toEqual(['host', 'host']);
    await agent.stop();
  }, 60_000);
});
