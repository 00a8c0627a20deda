/**
 * NAT: the agent and the client each sit behind their own MASQUERADE router namespace;
 * the client's router maps every flow to a fresh random port (`fully-random`, a
 * symmetric-like NAT). Host candidates are unreachable private addresses, so the peers
 * connect through server-reflexive / peer-reflexive candidates or TURN, and the report
 * says which. Real processes: `pinhole serve`, `pinhole agent`, `pinhole connect`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { netnsUnavailable } from '@pinhole/test-kit/netns/topology';
import { Scenario } from './netns/scenario.js';

const unavailable = netnsUnavailable();
if (unavailable) console.warn(`netns-nat: skipped, ${unavailable}`);

describe.skipIf(unavailable !== undefined)(`agent and client behind NAT${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let s: Scenario;
  // A topology per attempt, so a retry starts from fresh namespaces.
  beforeEach(async () => {
    s = await Scenario.create();
    await s.hub();
  }, 60_000);
  afterEach(async () => {
    await s?.destroy();
  });

  it('port-preserving NAT ↔ fully-random NAT: echo and forward work via srflx/prflx or relay, as reported', async () => {
    const agentSide = s.t.natHost('agent', 30);
    const clientSide = s.t.natHost('client', 40, { randomFully: true });
    const agent = await s.agent(agentSide.host);
    const check = await s.check(clientSide.host);
    const pair = JSON.parse((await agent.waitFor(/^(\{.*"msg":"peer connected".*\})$/m))[1]!) as { local: string; remote: string; protocol: string };
    console.info(`NAT: agent ${pair.local} ↔ client ${pair.remote} over ${pair.protocol}; client sees ${check.local} ↔ ${check.remote}`);
    expect(check.echo).toBe(true);
    // Neither side's host address (10.x behind its router) can be reached by the other.
    for (const type of [pair.local, pair.remote, check.local, check.remote]) expect(['srflx', 'prflx', 'relay']).toContain(type);
    for (const r of await s.forward(clientSide.host, 3, 2 * 1024 * 1024)) expect(r.got).toBe(r.sent);
    await agent.stop();
  }, 120_000);
});
