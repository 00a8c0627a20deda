/**
 * `pinhole agent`: a peer that only dials out (through HTTPS_PROXY when set), joins a room
 * and serves `echo`, `files` (--share DIR) and `forward` (--expose HOST:PORT) to the
 * members that connect to it. Runs until SIGINT/SIGTERM; logs JSON lines (pino) saying
 * which signaling transport and which candidate pair each peer uses.
 */
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ExposedTarget } from '@pinhole/agent';
import { resolveOptions } from '../config.js';
import { badTls, badValue, missing, reasonOf, runtimeError } from '../errors.js';
import { renderCommandHelp, type CommandHelp } from '../help.js';
import type { CliIO } from '../io.js';
import { createLogger } from '../logger.js';
import { flag, list, path, serveOptions, text, type Values } from '../options.js';
import { parsePort } from '../values.js';
import { stopRequests } from './serve.js';

/** What `agent` and `connect` share: where the hub is and how to reach and trust it. */
export const peerOptions = {
  hub: text({ help: 'hub URL, e.g. https://hub.example:8443', value: 'URL', file: false }),
  room: text({ help: 'room to join', value: 'ROOM', file: false }),
  token: text({ help: 'access token (JWT) from `pinhole token`; none: a dev hub', value: 'JWT', file: false }),
  ca: path({ help: "trust this CA for the hub's certificate, e.g. ~/.pinhole/cert.pem of a self-signed hub", file: false }),
  insecure: flag({ help: 'skip the TLS certificate check of the hub (development only)', file: false }),
  relay: flag({ help: 'TURN only (iceTransportPolicy relay): diagnostics, or to hide addresses', file: false }),
  logLevel: serveOptions.logLevel,
  config: serveOptions.config,
  dataDir: serveOptions.dataDir,
};

/** `[NAME=]HOST:PORT` or `PORT` (127.0.0.1); NAME defaults to the port. */
export function parseExpose(s: string, where: string): string {
  parseTarget(s, where);
  return s;
}

export function parseTarget(s: string, where: string): ExposedTarget {
  const eq = s.indexOf('=');
  const name = eq >= 0 ? s.slice(0, eq) : undefined;
  const address = eq >= 0 ? s.slice(eq + 1) : s;
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address) ?? /^()()(\d+)$/.exec(address);
  if (!m || (name !== undefined && !/^[\w.-]{1,64}$/.test(name))) throw badValue(where, `${JSON.stringify(s)} is not [NAME=]HOST:PORT (e.g. ssh=127.0.0.1:22)`);
  const host = m[1] || m[2] || '127.0.0.1';
  if (m[1] && isIP(host) !== 6) throw badValue(where, `${JSON.stringify(host)} in brackets is not an IPv6 address`);
  const port = parsePort(m[3]!, where);
  if (port === 0) throw badValue(where, 'port 0 cannot be exposed');
  return { name: name ?? String(port), host, port };
}

export const agentOptions = {
  ...peerOptions,
  name: text({ help: "this agent's name in the room", value: 'NAME', defaultText: 'the host name', env: 'PINHOLE_AGENT_NAME', file: false }),
  expose: list({ help: 'expose a local TCP port to `pinhole connect --forward` (repeatable)', value: '[NAME=]HOST:PORT', file: false }, parseExpose),
  share: path({ help: 'share this directory (read-only) with the files service', value: 'DIR', file: false }),
};

export const agentHelp: CommandHelp = {
  name: 'agent',
  summary: 'serve echo, files and TCP ports to a room, dialling out only',
  usage: 'pinhole agent --hub URL --room ROOM [--token JWT] [--expose [NAME=]HOST:PORT …] [--share DIR]',
  description: [
    'Makes only outgoing connections: the hub (through HTTPS_PROXY / HTTP_PROXY when set) and, for media,',
    "STUN/TURN from the hub's welcome. Peers reach the services with `pinhole connect` or the SDK.",
    'Retries the hub forever with backoff; logs the signaling transport and each peer\'s candidate pair.',
  ].join('\n'),
  table: agentOptions,
};

/** The SDK's connect options from the shared flags. */
export function connectOptionsOf(values: Values<typeof peerOptions>): { ca?: string; insecure?: boolean; iceTransportPolicy?: RTCIceTransportPolicy } {
  let ca: string | undefined;
  if (values.ca !== undefined) {
    try {
      ca = readFileSync(values.ca, 'utf8');
    } catch (err) {
      throw badTls(`--ca ${values.ca}: ${reasonOf(err)}`, err);
    }
  }
  return { ...(ca ? { ca } : {}), ...(values.insecure ? { insecure: true } : {}), ...(values.relay ? { iceTransportPolicy: 'relay' as const } : {}) };
}

export function requireHubAndRoom(values: Values<typeof peerOptions>, command: string): { hub: string; room: string } {
  if (values.hub === undefined) throw missing(`--hub is required (see 'pinhole ${command} --help')`);
  if (values.room === undefined) throw missing(`--room is required (see 'pinhole ${command} --help')`);
  if (!/^(https?|wss?):\/\//.test(values.hub)) throw badValue('--hub', `${JSON.stringify(values.hub)} is not an http(s) URL`);
  return { hub: values.hub, room: values.room };
}

export async function agentCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const { values, help } = resolveOptions(agentOptions, argv, io.env, 'agent');
  if (help) {
    io.stdout.write(renderCommandHelp(agentHelp));
    return 0;
  }
  const { hub, room } = requireHubAndRoom(values, 'agent');
  if (values.share !== undefined && !isDirectory(values.share)) throw badValue('--share', `${values.share} is not a directory`);
  const expose = values.expose.map((s) => parseTarget(s, '--expose'));
  const names = new Set(expose.map((t) => t.name));
  if (names.size !== expose.length) throw badValue('--expose', 'two targets have the same name (name them: NAME=HOST:PORT)');
  const logger = createLogger(values.logLevel, io.stdout === process.stdout ? undefined : io.stdout);
  const { Agent } = await import('@pinhole/agent');
  const agent = new Agent({
    hub,
    room,
    ...(values.token === undefined ? {} : { token: values.token }),
    ...(values.name === undefined ? {} : { name: values.name }),
    expose,
    ...(values.share === undefined ? {} : { share: values.share }),
    logger,
    connect: connectOptionsOf(values),
  });
  const stop = stopRequests(io);
  const fatal = agent.next('fatal');
  try {
    const started = agent.start().then(
      () => 'started' as const,
      (err: Error) => err,
    );
    const first = await Promise.race([started, stop.requested.then(() => 'stop' as const), fatal]);
    if (first instanceof Error) throw runtimeError(first.message, first);
    if (first === 'started') {
      const end = await Promise.race([stop.requested.then(() => 'stop' as const), fatal]);
      if (end instanceof Error) throw runtimeError(end.message, end);
    }
    return 0;
  } finally {
    stop.dispose();
    await agent.close();
    logger.info({}, 'stopped');
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
