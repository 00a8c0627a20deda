/** `pinhole token`: mints a hub access token (JWT, HS256) and prints it. */
import { resolveOptions } from '../config.js';
import { missing, usageError } from '../errors.js';
import { renderCommandHelp, type CommandHelp } from '../help.js';
import type { CliIO } from '../io.js';
import { tokenOptions } from '../options.js';

export const tokenHelp: CommandHelp = {
  name: 'token',
  summary: 'print a signed access token (JWT) for a room',
  usage: 'pinhole token --identity ID [--room ROOM] [--ttl 1h] [--perms join,publish,data] [--service sfu] [--secret S]',
  description: 'The secret comes from --secret, PINHOLE_SECRET or the config file, and must be the hub\'s.',
  table: tokenOptions,
};

export const NO_SECRET_MESSAGE =
  'no secret: pass --secret, set PINHOLE_SECRET, or put "secret" in the config file (it must match the hub\'s)';

export async function tokenCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const { values, help } = resolveOptions(tokenOptions, argv, io.env, 'token');
  if (help) {
    io.stdout.write(renderCommandHelp(tokenHelp));
    return 0;
  }
  if (values.identity === undefined) throw missing("--identity is required (see 'pinhole token --help')");
  if (values.secret === undefined) throw missing(NO_SECRET_MESSAGE);
  const claims = {
    identity: values.identity,
    ...(values.room !== undefined ? { room: values.room } : {}),
    ...(values.perms.length > 0 ? { perms: values.perms } : {}),
    ...(values.service !== undefined ? { service: values.service } : {}),
  };
  const { SERVICE_NAME } = await import('@pinhole/protocol');
  if (values.service !== undefined && !SERVICE_NAME.test(values.service)) throw usageError(`--service ${values.service}: a service kind is lowercase letters, digits and '-' (e.g. sfu)`);
  const { mintToken } = await import('@pinhole/server');
  io.stdout.write(`${await mintToken(values.secret, claims, values.ttl)}\n`);
  return 0;
}
