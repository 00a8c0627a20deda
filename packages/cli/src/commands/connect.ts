/**
 * `pinhole connect`: joins an agent's room and forwards local TCP ports to the ports the
 * agent exposes (`--forward 2222:ssh`, then `ssh -p 2222 127.0.0.1`); without --forward it
 * checks the agent (an `info` request and an echo over data channels) and prints one JSON
 * line: name, services, targets and the candidate pair in use.
 */
import { resolveOptions } from '../config.js';
import { badValue, runtimeError, usageError } from '../errors.js';
import { renderCommandHelp, type CommandHelp } from '../help.js';
import type { CliIO } from '../io.js';
import { createLogger } from '../logger.js';
import { duration, list, text } from '../options.js';
import { parsePort } from '../values.js';
import { connectOptionsOf, peerOptions, requireHubAndRoom } from './agent.js';
import { stopRequests } from './serve.js';

/** `LOCALPORT[:NAME]`. */
function parseForward(s: string, where: string): string {
  const [port = '', name, extra] = s.split(':');
  if (extra !== undefined || (name !== undefined && !/^[\w.-]{1,64}$/.test(name))) throw badValue(where, `${JSON.stringify(s)} is not LOCALPORT[:NAME] (e.g. 2222:ssh)`);
  parsePort(port, where);
  return s;
}

/** How long `connect` waits for the agent to appear and its connection to come up. */
export const DEFAULT_WAIT_MS = 30_000;

export const connectOptions = {
  ...peerOptions,
  forward: list({ help: 'listen on this local port and tunnel each connection to the agent\'s target NAME (repeatable; NAME may be left out when the agent exposes one)', value: 'LOCALPORT[:NAME]', file: false }, parseForward),
  bind: text({ help: 'local address the forwarded ports listen on', value: 'ADDR', file: false }, '127.0.0.1'),
  agent: text({ help: 'the agent to use, by name, when the room has several', value: 'NAME', file: false }),
  wait: duration({ help: 'how long to wait for the agent and the connection to it; default 30s', file: false }),
};

export const connectHelp: CommandHelp = {
  name: 'connect',
  summary: 'use an agent: forward local TCP ports to the ports it exposes',
  usage: 'pinhole connect --hub URL --room ROOM [--token JWT] [--forward LOCALPORT[:NAME] …]',
  description: 'Example: pinhole connect --hub https://hub:8443 --room ops --forward 2222:ssh, then ssh -p 2222 127.0.0.1',
  table: connectOptions,
};

export async function connectCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const { values, help } = resolveOptions(connectOptions, argv, io.env, 'connect');
  if (help) {
    io.stdout.write(renderCommandHelp(connectHelp));
    return 0;
  }
  const { hub, room: roomName } = requireHubAndRoom(values, 'connect');
  const waitMs = values.wait ?? DEFAULT_WAIT_MS;
  const logger = createLogger(values.logLevel, io.stdout === process.stdout ? undefined : io.stdout);
  const { connect } = await import('@pinhole/node');
  const { AgentClient, LocalForward, agentOf } = await import('@pinhole/agent');
  let session;
  try {
    session = await connect(hub, { ...connectOptionsOf(values), ...(values.token === undefined ? {} : { token: values.token }) });
  } catch (err) {
    throw runtimeError(`cannot reach the hub at ${hub}: ${(err as Error).message}`, err);
  }
  const stop = stopRequests(io);
  const forwards: { close(): Promise<void> }[] = [];
  try {
    logger.info({ hub, transport: session.transport }, 'signaling connected');
    session.on('transport-changed', ({ from, to }) => logger.info({ from, to }, 'signaling transport changed'));
    const room = await session.join(roomName, { name: 'pinhole-connect' });
    let agent = await AgentClient.find(room, { ...(values.agent === undefined ? {} : { name: values.agent }), timeoutMs: waitMs }).catch((err: Error) => {
      throw runtimeError(err.message, err);
    });
    const report = await agent.peer.report();
    logger.info({ agent: agent.announcement?.name, peer: agent.peer.id, local: report.candidateType.local, remote: report.candidateType.remote, protocol: report.protocol, relayProtocol: report.relayProtocol, rttMs: report.rttMs }, 'agent connected');
    // An agent that restarts comes back with a new peer id: follow it.
    room.on('peer-joined', (p) => {
      const a = agentOf(p);
      if (a && (values.agent === undefined || a.name === values.agent)) {
        agent.close();
        agent = new AgentClient(p, waitMs);
        logger.info({ agent: a.name, peer: p.id }, 'agent is back');
      }
    });
    const announcement = agent.announcement!;
    if (values.forward.length === 0) {
      // A check of the whole path: a request and an echo over data channels, and the pair in use.
      const info = await agent.info();
      const echoed = await agent.echo({ ping: Date.now() });
      const after = await agent.peer.report();
      const { local, remote } = after.candidateType;
      const check = { peer: agent.peer.id, name: info.name, services: info.services, targets: info.targets, echo: echoed.kind === 'json', local, remote, protocol: after.protocol, relayProtocol: after.relayProtocol, signaling: after.transport };
      io.stdout.write(`${JSON.stringify(check)}\n`);
      return 0;
    }
    for (const spec of values.forward) {
      const [portText, named] = spec.split(':');
      const target = named ?? (announcement.targets.length === 1 ? announcement.targets[0] : undefined);
      if (target === undefined) throw usageError(`--forward ${spec}: name the target (the agent exposes ${announcement.targets.join(', ') || 'none'})`);
      if (!announcement.targets.includes(target)) throw usageError(`--forward ${spec}: the agent exposes no target '${target}' (it has ${announcement.targets.join(', ') || 'none'})`);
      // Streams go to whichever peer is the agent now.
      const fwd = await LocalForward.listen({ port: Number(portText), host: values.bind, target, peer: () => agent.peer, logger }).catch((err: Error) => {
        throw runtimeError(`cannot listen on ${values.bind}:${portText}: ${err.message}`, err);
      });
      forwards.push(fwd);
      const { address, port } = fwd.address;
      logger.info({ listen: `${address}:${port}`, target }, 'forwarding');
      io.stderr.write(`pinhole: forwarding ${address}:${port} → ${announcement.name}/${target}\n`);
    }
    await stop.requested;
    return 0;
  } finally {
    stop.dispose();
    for (const f of forwards) await f.close();
    await session.close();
  }
}
