/**
 * Egress-only agent (ARCHITECTURE.md "Test topologies"): the agent's namespace drops every
 * inbound NEW connection, and a client in another namespace still uses its echo and
 * forward services through the hub. Then the agent may reach nothing but the hub/TURN
 * address, so a direct path is impossible and TURN must carry the data channels.
 * Real processes: `pinhole serve` (embedded TURN), `pinhole agent`, `pinhole connect`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PUBLIC_IP, PUBLIC_NET, netnsUnavailable } from '@pinhole/test-kit/netns/topology';
import { Scenario, egressOnly } from './netns/scenario.js';

const unavailable = netnsUnavailable();
if (unavailable) console.warn(`netns-egress: skipped, ${unavailable}`);

describe.skipIf(unavailable !== undefined)(`egress-only agent in a network namespace${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let s: Scenario;
  // A topology per attempt, so a retry starts from fresh namespaces.
  beforeEach(async () => {
    s = await Scenario.create();
    await s.hub();
  }, 60_000);
  afterEach(async () => {
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
    const agentNs = s.t.host('agent', 11);
    s.t.firewall(agentNs, egressOnly(PUBLIC_IP));
    const client = s.t.host('client', 21);
    const agent = await s.agent(agentNs);
    const check = await s.check(client);
    // The client may see the agent's relayed address as peer-reflexive (it learns it from the
    // first check before the relay candidate is signalled); the agent's own log names its side.
    const pair = JSON.parse((await agent.waitFor(/^(\{.*"msg":"peer connected".*\})$/m))[1]!) as { local: string; remote: string; protocol: string };
    console.info(`egress to the hub only: agent ${pair.local} ↔ client ${pair.remote} over ${pair.protocol} (client sees ${check.local} ↔ ${check.remote})`);
    expect(check.echo).toBe(true);
    // The agent can send only to the hub's address, which is also where every relayed address
    // lives, so every byte between the two goes through TURN. Which side's allocation carries it
    // varies (ICE may pick the agent's host candidate → the client's relayed address, and a side
    // may see the other's relayed address as peer-reflexive), so the pair types only have to name
    // a relay somewhere; the relay's own byte counter proves the path.
    expect([pair.local, pair.remote, check.local, check.remote]).toContain('relay');
    const relayedBefore = await s.metric(client, 'pinhole_turn_relayed_bytes_total');
    const streams = 3;
    const bytes = 2 * 1024 * 1024;
    for (const r of await s.forward(client, streams, bytes)) expect(r.got).toBe(r.sent);
    // Each stream's bytes cross the relay at least twice (client → agent and the echo back).
    const relayed = await s.metric(client, 'pinhole_turn_relayed_bytes_total') - relayedBefore;
    console.info(`egress to the hub only: ${relayed} bytes relayed for ${streams} × ${bytes} echoed`);
    expect(relayed).toBeGreaterThanOrEqual(2 * streams * bytes);
    await agent.stop();
  }, 120_000);
});
