/**
 * `pinhole sfu`: the media server as its own process, dialing out to a hub (docs/protocol/sfu.md
 * §15.5). It joins the hub's rooms as a service member, with service tokens it mints from the
 * hub's secret, and serves `pinhole:sfu-*` requests until SIGINT/SIGTERM.
 */
import { resolveOptions } from '../config.js';
import { badValue, missing, runtimeError } from '../errors.js';
import { renderCommandHelp, type CommandHelp } from '../help.js';
import type { CliIO } from '../io.js';
import { createLogger } from '../logger.js';
import { mediaServer, serveOptions, text } from '../options.js';
import { sfuOptionsOf } from '../sfu.js';
import { connectOptionsOf, peerOptions } from './agent.js';
import { stopRequests } from './serve.js';

export const sfuOptions = {
  hub: peerOptions.hub,
  secret: { ...serveOptions.secret, help: "the hub's secret: the SFU mints its service tokens (svc: sfu) with it" },
  token: text({ help: 'a service token from `pinhole token --service sfu` instead of --secret (used until it expires)', value: 'JWT', file: false }),
  ca: peerOptions.ca,
  insecure: peerOptions.insecure,
  logLevel: serveOptions.logLevel,
  config: serveOptions.config,
  dataDir: serveOptions.dataDir,
  ...mediaServer,
};

export const sfuHelp: CommandHelp = {
  name: 'sfu',
  summary: 'run the media server (SFU) as its own process, joining a hub\'s rooms as a service member',
  usage: 'pinhole sfu --hub URL --secret S',
  description: [
    'Dials out to the hub (through HTTPS_PROXY / HTTP_PROXY when set), asks to be told of rooms and joins',
    'each while it has participants; clients publish and subscribe through hub signals (docs/protocol/sfu.md).',
    'The hub needs a secret (a dev-mode hub accepts no service from another process): run it with',
    '--no-sfu so that its embedded SFU does not join the rooms too.',
  ].join('\n'),
  table: sfuOptions,
};

/** Service tokens last this long; a fresh one is minted at every hello. */
const SERVICE_TOKEN_TTL_SECONDS = 3600;

export async function sfuCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const { values, help } = resolveOptions(sfuOptions, argv, io.env, 'sfu');
  if (help) {
    io.stdout.write(renderCommandHelp(sfuHelp));
    return 0;
  }
  if (values.hub === undefined) throw missing("--hub is required (see 'pinhole sfu --help')");
  if (!/^https?:\/\//.test(values.hub)) throw badValue('--hub', `${JSON.stringify(values.hub)} is not an http(s) URL`);
  const { secret, token } = values;
  if (secret === undefined && token === undefined) throw missing('--secret (or PINHOLE_SECRET, or a --token from `pinhole token --service sfu`) is required: the SFU joins as a service');
  const { ca, insecure } = connectOptionsOf({ ...values, room: undefined, token: undefined, relay: false });
  const logger = createLogger(values.logLevel, io.stdout === process.stdout ? undefined : io.stdout);
  const [{ Sfu, SfuService }, { mintToken }] = await Promise.all([import('@pinhole/sfu'), import('@pinhole/server')]);
  const sfu = new Sfu(sfuOptionsOf(values));
  const service = new SfuService({
    hub: values.hub,
    token: secret !== undefined ? () => mintToken(secret, { identity: 'sfu', service: 'sfu', perms: ['join', 'data'] }, SERVICE_TOKEN_TTL_SECONDS) : token!,
    sfu,
    ...(ca === undefined ? {} : { ca }),
    ...(insecure ? { insecure } : {}),
    logger: { info: (fields, message) => logger.info(fields, message), warn: (fields, message) => logger.warn(fields, message) },
  });
  const stop = stopRequests(io);
  try {
    const started = await Promise.race([
      service.start().then(
        () => 'started' as const,
        (err: Error) => err,
      ),
      stop.requested.then(() => 'stop' as const),
    ]);
    if (started instanceof Error) throw runtimeError(`the SFU could not join the hub at ${values.hub}: ${started.message}`, started);
    if (started === 'started') {
      io.onSfu?.(service);
      await stop.requested;
    }
    return 0;
  } finally {
    stop.dispose();
    await service.close().catch(() => undefined);
    sfu.close();
    logger.info({}, 'stopped');
  }
}
