/** Fixtures for agent tests: a real hub, an agent, a client session, TCP targets, random files. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningHub } from '@pinhole/server';
import { connect, type Session } from '@pinhole/node';
import { Agent, AgentClient, type AgentOptions } from '../src/index.js';
import { startTestHub } from '@pinhole/test-kit/hub';

export { until } from '@pinhole/test-kit/wait';

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export function tempDir(cleanup: (() => unknown)[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'pinhole-agent-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A TCP server on 127.0.0.1 (half-open sockets allowed) that hands each connection to `onSocket`. */
export async function tcpServer(onSocket: (s: Socket) => void, cleanup: (() => unknown)[]): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return { server, port: (server.address() as AddressInfo).port };
}

export interface Fixture {
  hub: RunningHub;
  agent: Agent;
  session: Session;
  client: AgentClient;
}

/** Hub + agent (with `options`) + a client session in the same room, connected to the agent. */
export async function fixture(options: Partial<AgentOptions>, cleanup: (() => unknown)[]): Promise<Fixture> {
  const hub = await startTestHub();
  cleanup.push(() => hub.close());
  const room = `agent-${randomBytes(4).toString('hex')}`;
  const agent = new Agent({ hub: hub.url, room, name: 'test-agent', ...options });
  cleanup.push(() => agent.close());
  await agent.start();
  const session = await connect(hub.url, { reconnect: { initialDelayMs: 50, maxDelayMs: 500 } });
  cleanup.push(() => session.close());
  const joined = await session.join(room, { name: 'client' });
  const client = await AgentClient.find(joined, { timeoutMs: 20_000 });
  cleanup.push(() => client.close());
  return { hub, agent, session, client };
}
