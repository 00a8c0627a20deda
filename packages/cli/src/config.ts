/**
 * Resolves an option table against, in order of precedence:
 * command-line flags > `PINHOLE_*` environment variables > JSON config file > defaults.
 *
 * The config file is `--config FILE`, else `PINHOLE_CONFIG`, else `<data-dir>/config.json`
 * when that exists. One file serves every command, so it may hold keys of other commands,
 * but a key no command knows is an error (it is almost always a typo).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError, badConfig, reasonOf, usageError } from './errors.js';
import { CONFIG_FILE_KEYS, envOf, flagOf, inFile, type OptionTable, type Values } from './options.js';

export type Env = Readonly<Record<string, string | undefined>>;
export type Source = 'flag' | 'env' | 'file' | 'default';

export interface ConfigFile {
  path: string;
  values: Readonly<Record<string, unknown>>;
}

export interface Resolved<T extends OptionTable> {
  values: Values<T>;
  /** Where each value came from, for messages and tests. */
  sources: { [K in keyof T]: Source };
  /** The config file that was read, if any. */
  file: ConfigFile | undefined;
  /** `--help` was given. */
  help: boolean;
}

type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Parses `argv` (without the command name) against `table`. Throws a `usage` CliError. */
export function parseFlags(table: OptionTable, argv: readonly string[], command: string): FlagValues {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [key, o] of Object.entries(table)) {
    options[flagOf(key, o)] = { type: o.type === 'boolean' ? 'boolean' : 'string', multiple: o.type === 'list' };
  }
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw usageError(`${flagErrorText(err)} (see 'pinhole ${command} --help')`, err);
  }
}

/** node:util parseArgs messages are long and multi-line; keep the first useful part. */
function flagErrorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const quoted = /'([^']+)'/.exec(e.message ?? '')?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted ?? ''}`.trim();
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${quoted ? `'${quoted}'` : ''}`.trim();
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = /'(--[\w-]+)/.exec(e.message)?.[1] ?? '';
      // "argument missing" (last flag) and "argument is ambiguous" (`--port --host x`).
      if (/argument (missing|is ambiguous)/.test(e.message)) return `option ${flag} needs a value`;
      if (/does not take an argument/.test(e.message)) return `option ${flag} takes no value`;
      return (e.message.split('\n')[0] ?? e.message).replace(/^Option /, 'option ');
    }
    default:
      return reasonOf(err);
  }
}

/**
 * Finds and reads the config file. An explicitly named file (`--config`, `PINHOLE_CONFIG`)
 * must exist; `<data-dir>/config.json` is read only if present.
 */
export function loadConfigFile(flags: FlagValues, env: Env, defaultDataDir: string): ConfigFile | undefined {
  const explicit = str(flags['config']) ?? nonEmpty(env['PINHOLE_CONFIG']);
  let path: string;
  if (explicit !== undefined) {
    path = resolvePath(expandPath(explicit));
  } else {
    const dataDir = str(flags['data-dir']) ?? nonEmpty(env['PINHOLE_DATA_DIR']) ?? defaultDataDir;
    path = join(resolvePath(expandPath(dataDir)), 'config.json');
    if (!existsSync(path)) return undefined;
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw badConfig(`cannot read config file ${path}: ${reasonOf(err)}`, err);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw badConfig(`config file ${path} is not valid JSON: ${reasonOf(err)}`, err);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badConfig(`config file ${path} must hold a JSON object`);
  }
  const unknown = Object.keys(parsed).filter((k) => !CONFIG_FILE_KEYS.has(k) && k !== '$schema');
  if (unknown.length > 0) {
    throw badConfig(`config file ${path}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
  }
  return { path, values: parsed as Record<string, unknown> };
}

/** Resolves every option of `table`: flag > env > config file > default. */
export function resolveOptions<T extends OptionTable>(
  table: T,
  argv: readonly string[],
  env: Env,
  command: string,
): Resolved<T> {
  const flags = parseFlags(table, argv, command);
  const help = flags['help'] === true;
  // With --help nothing else is validated: `pinhole serve --port x --help` still shows help.
  const file = help ? undefined : loadConfigFile(flags, env, defaultOf(table, 'dataDir'));
  const values: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  for (const [key, o] of Object.entries(table)) {
    const name = flagOf(key, o);
    const envName = envOf(key, o);
    const fromFlag = flags[name];
    const fromEnv = envName === undefined ? undefined : nonEmpty(env[envName]);
    const fromFile = file && inFile(o) ? file.values[key] : undefined;
    if (help) {
      values[key] = o.default;
      sources[key] = 'default';
    } else if (fromFlag !== undefined) {
      values[key] = o.parse(fromFlag, `--${name}`);
      sources[key] = 'flag';
    } else if (fromEnv !== undefined) {
      values[key] = o.parse(fromEnv, envName!);
      sources[key] = 'env';
    } else if (fromFile !== undefined && fromFile !== null) {
      values[key] = o.parse(fromFile, `${file!.path}: ${key}`);
      sources[key] = 'file';
    } else {
      values[key] = o.default;
      sources[key] = 'default';
    }
    if (o.isPath && typeof values[key] === 'string') {
      values[key] = expandPath(values[key], sources[key] === 'file' ? dirname(file!.path) : undefined);
    }
  }
  return { values: values as Values<T>, sources: sources as Resolved<T>['sources'], file, help };
}

function defaultOf(table: OptionTable, key: string): string {
  const d = table[key]?.default;
  if (typeof d !== 'string') throw new CliError('usage', `internal: option table has no string default for ${key}`);
  return d;
}

/**
 * `~` and `~/…` become the home directory (env values and JSON are not shell-expanded);
 * a relative path from a config file is relative to that file's directory.
 */
export function expandPath(p: string, relativeTo?: string): string {
  const expanded = p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
  return relativeTo !== undefined && !isAbsolute(expanded) ? resolvePath(relativeTo, expanded) : expanded;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** An empty environment variable counts as unset, as shells make `VAR=` easy to leave behind. */
const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
