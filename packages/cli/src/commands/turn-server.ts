/**
 * `pinhole turn`: the STUN/TURN server (@pinhole/turn) on its own, for a relay host apart from
 * the hub. Same TURN options as `serve`; credentials from the TURN REST API secret the hub
 * mints with (`--secret`/`--turn-secret`) and/or static users; optional Prometheus /metrics.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { publicHost } from '../addresses.js';
import { resolveOptions, type Resolved } from '../config.js';
import { CliError, runtimeError, usageError } from '../errors.js';
import { renderCommandHelp, type CommandHelp } from '../help.js';
import type { CliIO } from '../io.js';
import { createLogger } from '../logger.js';
import { turnOptions, type TurnValues } from '../options.js';
import { loadTlsFiles } from '../tls.js';
import { startEmbeddedTurn, type EmbeddedTurn } from '../turn.js';
import { stopRequests, turnServerOptions } from './serve.js';

export const turnHelp: CommandHelp = {
  name: 'turn',
  summary: 'run only the STUN/TURN server (UDP, TCP, and TLS with --tls-cert/--tls-key)',
  usage: 'pinhole turn [options]',
  description: [
    'Credentials: TURN REST API usernames `expiry:identity` signed with --secret (or --turn-secret),',
    "as `pinhole serve` and `pinhole turn-credentials` issue them; and/or --turn-user NAME:PASSWORD.",
    'Peers on loopback, private, link-local and multicast addresses are refused unless --turn-allow-peer lists them.',
  ].join('\n'),
  table: turnOptions,
};

export interface RunningTurn {
  turn: EmbeddedTurn;
  /** e.g. http://127.0.0.1:9464/metrics, with --metrics-port. */
  metricsUrl: string | undefined;
  close(): Promise<void>;
}

const hostInUrl = (h: string): string => (h.includes(':') ? `[${h}]` : h);

/** Starts the TURN server (and the metrics endpoint), prints where; the caller decides when to close. */
export async function startTurnCommand(resolved: Resolved<typeof turnOptions>, io: CliIO): Promise<RunningTurn> {
  const { values } = resolved;
  const secret = values.turnSecret ?? values.secret;
  if (secret === undefined && values.turnUsers.length === 0) {
    throw usageError('pinhole turn needs credentials: --secret (TURN REST API, as the hub issues them) and/or --turn-user NAME:PASSWORD');
  }
  if ((values.tlsCert === undefined) !== (values.tlsKey === undefined)) throw usageError('--tls-cert and --tls-key go together');
  const tls = values.tlsCert !== undefined && values.tlsKey !== undefined ? loadTlsFiles(values.tlsCert, values.tlsKey) : undefined;
  const logger = createLogger(values.logLevel, io.stdout === process.stdout ? undefined : io.stdout);
  const shared = turnServerOptions(values);
  const advertised = values.turnExternalIp ?? publicHost(values.host);

  let turn: EmbeddedTurn;
  try {
    turn = await startEmbeddedTurn({
      host: values.host,
      port: values.turnPort,
      ...(secret !== undefined ? { secret } : {}),
      realm: values.turnRealm,
      publicHost: advertised,
      logger,
      ...shared,
      ...(tls ? { tls: { cert: tls.cert, key: tls.key, port: values.turnTlsPort } } : {}),
    });
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw runtimeError(`TURN failed to start on ${values.host}:${values.turnPort}: ${(err as Error).message}`, err);
  }

  let metrics: Server | undefined;
  let metricsUrl: string | undefined;
  if (values.metricsPort !== undefined) {
    try {
      const { createTurnMetricsRegistry } = await import('@pinhole/server');
      const registry = createTurnMetricsRegistry(turn.stats!);
      metrics = createServer((req, res) => {
        if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
          registry.metrics().then(
            (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
            (err: unknown) => res.writeHead(500).end(String(err)),
          );
        } else {
          res.writeHead(404).end();
        }
      });
      const server = metrics;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(values.metricsPort, values.host, () => resolve());
      });
      const local = values.host === '0.0.0.0' || values.host === '::' ? 'localhost' : values.host;
      metricsUrl = `http://${hostInUrl(local)}:${(server.address() as AddressInfo).port}/metrics`;
    } catch (err) {
      await turn.close().catch(() => undefined);
      throw runtimeError(`metrics endpoint failed to start on ${values.host}:${values.metricsPort}: ${(err as Error).message}`, err);
    }
  }

  io.stderr.write(renderTurnBanner(values, turn, { secret: secret !== undefined, metricsUrl }));
  logger.info({ ports: turn.ports, relayIp: turn.relayIp, metrics: metricsUrl }, 'turn listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      logger.info('shutting down');
      const results = await Promise.allSettled([turn.close(), metrics ? new Promise<void>((r) => metrics!.close(() => r())) : undefined]);
      metrics?.closeAllConnections();
      logger.info('stopped');
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw runtimeError(`shutdown failed: ${(failed.reason as Error)?.message ?? String(failed.reason)}`, failed.reason);
    })());
  return { turn, metricsUrl, close };
}

function renderTurnBanner(values: TurnValues, turn: EmbeddedTurn, extra: { secret: boolean; metricsUrl: string | undefined }): string {
  const h = hostInUrl(values.host);
  const ports = turn.ports!;
  const listen = [`UDP ${h}:${ports.udp}`, `TCP ${h}:${ports.tcp}`, ...(ports.tls !== undefined ? [`TLS ${h}:${ports.tls}`] : [])];
  const auth = [
    ...(extra.secret ? ['TURN REST API credentials (--secret)'] : []),
    ...(values.turnUsers.length > 0 ? [`static users ${values.turnUsers.map((u) => u.slice(0, u.indexOf(':'))).join(', ')}`] : []),
  ];
  const lines = [
    '',
    'pinhole turn listening on:',
    `  ${listen.join(', ')}`,
    `  relay ${turn.relayIp} ports ${values.turnRelayMinPort}-${values.turnRelayMaxPort}`,
    `URLs: ${[...turn.stunUrls, ...turn.turnUrls].join(' ')}`,
    `auth: ${auth.join('; ')} (realm ${values.turnRealm})`,
    `peers: loopback/private/link-local/multicast refused${values.turnAllowPeers.length > 0 ? `, except ${values.turnAllowPeers.join(', ')}` : ''}`,
    ...(ports.tls === undefined ? ['TLS: off (give --tls-cert and --tls-key for turns: on --turn-tls-port)'] : []),
    ...(extra.metricsUrl ? [`metrics: ${extra.metricsUrl}`] : []),
    '',
    'Ctrl-C stops the server.',
    '',
  ];
  return lines.join('\n');
}

/** `pinhole turn`: runs until SIGINT/SIGTERM (or `io.signal`), then closes every socket. */
export async function turnCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const resolved = resolveOptions(turnOptions, argv, io.env, 'turn');
  if (resolved.help) {
    io.stdout.write(renderCommandHelp(turnHelp));
    return 0;
  }
  const running = await startTurnCommand(resolved, io);
  const stop = stopRequests(io);
  try {
    io.onTurn?.(running);
    await stop.requested;
    io.stderr.write('pinhole: shutting down (again to force)\n');
    await running.close();
  } finally {
    stop.dispose();
  }
  return 0;
}
