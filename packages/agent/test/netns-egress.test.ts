/**
 * Egress-only agent (ARCHITECTURE.md "Test topologies"): the agent's namespace drops every
 * inbound NEW connection, and a client in another namespace still uses its echo and
 * forward services through the hub. Then the agent may reach nothing but the hub/TURN
 * address, so a direct path is impossible and TURN must carry the data channels.
 * Real processes: `pinhole serve` (embedded TURN), `pinhole agent`, `pinhole connect`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_IP, PUBLIC_NET, netnsUnavailable } from '@pinhole/test-kit/netns/topology';
import { Scenario, egressOnly } from './netns/scenario.js';

const unavailable = netnsUnavailable();
if (unavailable) console.warn(`netns-egress: skipped, ${unavailable}`);

describe.skipIf(unavailable !== undefined)(`egress-only agent in a network namespace${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await Scenario.create();
    await s.hub();
  }, 60_000);
  afterAll(async () => {
    await s?.destroy();
  });

  it('inbound NEW dropped: echo and forward still work (direct paths punched from inside, or TURN)', async () => {
    const agentNs = s.t.host('agent', 10);
    s.t.firewall(agentNs, egressOnly());
    const client = s.t.host('client', 20);
    const agent = await s.agent(agentNs);
    // The firewall is real: the echo target listens on all addresses, yet the client cannot open a connection to it.
    expect(await s.blocked(client, `${PUBLIC_NET}.10`, 7007)).toBe(true);
    const check = await s.check(client);
    console.info(`egress-only: candidate pair ${check.local} ↔ ${check.remote} over ${check.protocol}`);
    expect(check).toMatchObject({ name: 'box', echo: true, targets: ['echo'], signaling: 'hub/ws' });
    for (const r of await s.forward(client, 3, 2 * 1024 * 1024)) expect(r.got).toBe(r.sent);
    expect(s.t.counter(agentNs, 'inet', 'egress', 'inbound_new_dropped')).toBeGreaterThan(0);
    await agent.stop();
  }, 120_000);

  it('egress only to the hub: no direct path exists, the data channels go through TURN', async () => {
    const agentNs = s.t.host('agent2', 11);
    s.t.firewall(agentNs, egressOnly(PUBLIC_IP));
    const client = s.t.host('client2', 21);
    const agent = await s.agent(agentNs);
    const check = await s.check(client);
    // The client may see the agent's relayed address as peer-reflexive (it learns it from the
    // first check before the relay candidate is signalled); the agent's own log names its side.
    const pair = JSON.parse((await agent.waitFor(/^(\{.*"msg":"peer connected".*\})$/m))[1]!) as { local: string; remote: string; protocol: string };
    console.info(`egress to the hub only: agent ${pair.local} ↔ client ${pair.remote} over ${pair.protocol} (client sees ${check.local} ↔ ${check.remote})`);
    expect(check.echo).toBe(true);
    // The agent can send only to the hub's address, which is also where every relayed
    // address lives: one side of the pair is a TURN relay (either peer's; a side may see the
    // other's relayed address as peer-reflexive when a check arrives before the candidate).
    expect([pair.local, pair.remote, check.local, check.remote]).toContain('relay');
    expect([pair.local, check.local]).not.toEqual(['host', 'host']);
    for (const r of await s.forward(client, 3, 2 * 1024 * 1024)) expect(r.got).toBe(r.sent);
    await agent.stop();
  }, 120_000);
});
