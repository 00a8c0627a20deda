/**
 * `pinhole turn-credentials`: prints TURN REST API credentials (username `expiry:identity`,
 * credential base64(HMAC-SHA1(secret, username))) for the embedded TURN or a coturn with
 * `use-auth-secret`, as JSON `{username, credential, ttl, urls?}`.
 */
import { resolveOptions } from '../config.js';
import { missing } from '../errors.js';
import { renderCommandHelp, type CommandHelp } from '../help.js';
import type { CliIO } from '../io.js';
import { turnCredentialsOptions } from '../options.js';

export const turnCredentialsHelp: CommandHelp = {
  name: 'turn-credentials',
  summary: 'print TURN REST API credentials as JSON',
  usage: 'pinhole turn-credentials --identity ID [--ttl 1h] [--turn-secret S | --secret S] [--turn-url URL]',
  description: 'The secret is --turn-secret (coturn static-auth-secret), else --secret; also from env or the config file.',
  table: turnCredentialsOptions,
};

export interface TurnCredentialsOutput {
  username: string;
  credential: string;
  ttl: number;
  urls?: string[];
}

export async function turnCredentialsCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const { values, help } = resolveOptions(turnCredentialsOptions, argv, io.env, 'turn-credentials');
  if (help) {
    io.stdout.write(renderCommandHelp(turnCredentialsHelp));
    return 0;
  }
  if (values.identity === undefined) throw missing("--identity is required (see 'pinhole turn-credentials --help')");
  const secret = values.turnSecret ?? values.secret;
  if (secret === undefined) {
    throw missing('no secret: pass --turn-secret or --secret, set PINHOLE_TURN_SECRET or PINHOLE_SECRET, or put one in the config file');
  }
  const { turnCredentials } = await import('@pinhole/server');
  const { username, credential, ttl } = turnCredentials(secret, values.identity, values.ttl);
  const out: TurnCredentialsOutput = { username, credential, ttl };
  if (values.turnUrls.length > 0) out.urls = values.turnUrls;
  io.stdout.write(`${JSON.stringify(out)}\n`);
  return 0;
}
