/**
 * Errors the CLI reports as one line on stderr. Each carries a string `code` and the process
 * exit code it maps to: 2 for anything the user typed or configured wrong (the usual
 * convention for usage errors), 1 for failures at run time (port in use, hub crashed).
 */

/** Exit code for bad flags, env values, config files or certificate files. */
export const EXIT_USAGE = 2;
/** Exit code for a failure after the configuration was accepted. */
export const EXIT_FAILURE = 1;

export type CliErrorCode =
  /** unknown flag, missing flag value, unexpected argument, unknown command */
  | 'usage'
  /** a value that does not parse: port, duration, boolean, number, list member */
  | 'bad-value'
  /** config file unreadable, not JSON, or with unknown keys */
  | 'bad-config'
  /** certificate or key unreadable, unparsable, or not a pair */
  | 'bad-tls'
  /** a required value (secret, identity) given nowhere */
  | 'missing'
  /** the hub or TURN server failed to start or stopped with an error */
  | 'runtime';

export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;
  constructor(
    readonly code: CliErrorCode,
    message: string,
    options?: { cause?: unknown; exitCode?: number },
  ) {
    super(message, options);
    this.exitCode = options?.exitCode ?? (code === 'runtime' ? EXIT_FAILURE : EXIT_USAGE);
  }
}

export const usageError = (message: string, cause?: unknown): CliError =>
  new CliError('usage', message, { cause });

/** `where` names the source, e.g. `--port`, `PINHOLE_PORT`, or `config.json: port`. */
export const badValue = (where: string, message: string): CliError =>
  new CliError('bad-value', `${where}: ${message}`);

export const badConfig = (message: string, cause?: unknown): CliError =>
  new CliError('bad-config', message, { cause });

export const badTls = (message: string, cause?: unknown): CliError =>
  new CliError('bad-tls', message, { cause });

export const missing = (message: string): CliError => new CliError('missing', message);

export const runtimeError = (message: string, cause?: unknown): CliError =>
  new CliError('runtime', message, { cause });

/** The short reason of a Node system error (`ENOENT: no such file or directory`), else its message. */
export function reasonOf(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    if (code === 'EISDIR') return 'is a directory';
    return err.message.split('\n')[0] ?? String(err);
  }
  return String(err);
}
