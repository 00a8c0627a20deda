/**
 * The option tables: one declaration per option gives its flag, environment variable,
 * config-file key, default, parser and help line. `config.ts` resolves a table against
 * flags, environment and config file; `help.ts` renders it. Names are derived from the
 * camelCase key (`maxPeersPerRoom` → `--max-peers-per-room`, `PINHOLE_MAX_PEERS_PER_ROOM`,
 * `"maxPeersPerRoom"` in JSON) unless an option overrides them.
 */
import { BlockList, isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_STREAM_CONNECTIONS, DEFAULT_MAX_STREAM_CONNECTIONS_PER_SOURCE, DEFAULT_STREAM_IDLE_TIMEOUT_MS } from '@pinhole/turn';
import { badValue } from './errors.js';
import {
  LOG_LEVELS,
  PERMISSIONS,
  parseBoolean,
  parseChoice,
  parseCount,
  parseDuration,
  parsePort,
  parsePortRange,
  parseRate,
  parseTtlSeconds,
  parseUrlWithScheme,
  splitList,
  type LogLevel,
  type Permission,
} from './values.js';

/** A raw value as it arrives: a flag or env string, a repeated flag, or any JSON value. */
export type RawValue = unknown;

export interface Option<T> {
  /** How the flag is parsed: `boolean` takes no value, `list` may be repeated. */
  readonly type: 'string' | 'boolean' | 'list';
  readonly help: string;
  /** Placeholder in help, e.g. `PORT`. */
  readonly value?: string;
  /** Flag name without dashes; default: kebab-case of the key. */
  readonly flag?: string;
  /** Environment variable; default `PINHOLE_<UPPER_SNAKE_KEY>`; `false`: not read from env. */
  readonly env?: string | false;
  /** Read from the JSON config file under its key; default true. */
  readonly file?: boolean;
  readonly default: T;
  /** Shown in help instead of the default value (e.g. when it is computed). */
  readonly defaultText?: string;
  /** A file system path: `~/` is expanded, and a relative path in the config file is taken relative to that file. */
  readonly isPath?: boolean;
  /** Parses a raw value from `where` (flag, env var or config key). */
  readonly parse: (raw: RawValue, where: string) => Exclude<T, undefined>;
}

export type OptionTable = Record<string, Option<unknown>>;
export type Values<T extends OptionTable> = { [K in keyof T]: T[K] extends Option<infer V> ? V : never };

export const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const upperSnake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

export const flagOf = (key: string, o: Option<unknown>): string => o.flag ?? kebab(key);
export const envOf = (key: string, o: Option<unknown>): string | undefined =>
  o.env === false ? undefined : (o.env ?? `PINHOLE_${upperSnake(key)}`);
export const inFile = (o: Option<unknown>): boolean => o.file ?? true;

function asText(raw: RawValue, where: string, what: string): string {
  if (typeof raw === 'string') return raw;
  throw badValue(where, `expected ${what}, got ${JSON.stringify(raw)}`);
}

function asTextOrNumber(raw: RawValue, where: string, what: string): string | number {
  if (typeof raw === 'string' || typeof raw === 'number') return raw;
  throw badValue(where, `expected ${what}, got ${JSON.stringify(raw)}`);
}

type Meta = Pick<Option<unknown>, 'help' | 'value' | 'flag' | 'env' | 'file' | 'defaultText'>;

// --- builders -------------------------------------------------------------------------

export function text(meta: Meta): Option<string | undefined>;
export function text(meta: Meta, fallback: string): Option<string>;
export function text(meta: Meta, fallback?: string): Option<string | undefined> {
  return {
    type: 'string',
    ...meta,
    default: fallback,
    parse: (raw, where) => {
      const s = asText(raw, where, 'a string');
      if (s.length === 0) throw badValue(where, 'must not be empty');
      return s;
    },
  };
}

export function path(meta: Meta): Option<string | undefined>;
export function path(meta: Meta, fallback: string): Option<string>;
export function path(meta: Meta, fallback?: string): Option<string | undefined> {
  return { ...text(meta), value: 'FILE', ...meta, default: fallback, isPath: true };
}

export function flag(meta: Meta): Option<boolean> {
  return {
    type: 'boolean',
    ...meta,
    default: false,
    parse: (raw, where) => {
      if (typeof raw === 'boolean' || typeof raw === 'string') return parseBoolean(raw, where);
      throw badValue(where, `expected true or false, got ${JSON.stringify(raw)}`);
    },
  };
}

function port(meta: Meta, fallback: number): Option<number> {
  return { type: 'string', value: 'PORT', ...meta, default: fallback, parse: (raw, where) => parsePort(asTextOrNumber(raw, where, 'a port number'), where) };
}

/** A port that is off unless given (0 picks a free one). */
function optionalPort(meta: Meta): Option<number | undefined> {
  return { type: 'string', value: 'PORT', ...meta, default: undefined, parse: (raw, where) => parsePort(asTextOrNumber(raw, where, 'a port number'), where) };
}

/** An IPv4 or IPv6 address (no host names: it goes on the wire as is). */
function ipAddress(meta: Meta): Option<string | undefined> {
  return {
    type: 'string',
    value: 'IP',
    ...meta,
    default: undefined,
    parse: (raw, where) => {
      const s = asText(raw, where, 'an IP address').trim();
      if (isIP(s) === 0) throw badValue(where, `${JSON.stringify(raw)} is not an IP address`);
      return s;
    },
  };
}

/** A non-negative integer (0 usually meaning "off"). */
function amount(meta: Meta): Option<number | undefined> {
  return {
    type: 'string',
    value: 'N',
    ...meta,
    default: undefined,
    parse: (raw, where) => {
      const text = String(asTextOrNumber(raw, where, 'an integer')).trim();
      if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw badValue(where, `${JSON.stringify(raw)} is not a non-negative integer`);
      return Number(text);
    },
  };
}

function count(meta: Meta): Option<number | undefined> {
  return { type: 'string', value: 'N', ...meta, default: undefined, parse: (raw, where) => parseCount(asTextOrNumber(raw, where, 'an integer'), where) };
}

function rate(meta: Meta): Option<number | undefined> {
  return { type: 'string', value: 'N', ...meta, default: undefined, parse: (raw, where) => parseRate(asTextOrNumber(raw, where, 'a number'), where) };
}

/** Milliseconds. */
export function duration(meta: Meta): Option<number | undefined> {
  return { type: 'string', value: 'DURATION', ...meta, default: undefined, parse: (raw, where) => parseDuration(asTextOrNumber(raw, where, 'a duration'), where) };
}

/** Whole seconds. */
function ttl(meta: Meta, fallback: number): Option<number> {
  return { type: 'string', value: 'DURATION', ...meta, default: fallback, parse: (raw, where) => parseTtlSeconds(asTextOrNumber(raw, where, 'a duration'), where) };
}

function choice<T extends string>(meta: Meta, choices: readonly T[], fallback: T): Option<T> {
  return {
    type: 'string',
    value: choices.join('|'),
    ...meta,
    default: fallback,
    parse: (raw, where) => parseChoice(asText(raw, where, 'a string'), where, choices),
  };
}

/**
 * A list: a repeatable flag (each occurrence may also hold comma-separated items), a
 * comma-separated environment variable, or a JSON array of strings (or one comma string).
 */
export function list<T extends string = string>(meta: Meta, item: (s: string, where: string) => T = (s) => s as T): Option<T[]> {
  return {
    type: 'list',
    ...meta,
    default: [],
    parse: (raw, where) => {
      const parts: unknown[] = Array.isArray(raw) ? raw : [raw];
      const items: string[] = [];
      for (const part of parts) items.push(...splitList(asText(part, where, 'a string or an array of strings')));
      return items.map((s) => item(s, where));
    },
  };
}

const turnUrl = (s: string, where: string): string => parseUrlWithScheme(s, where, ['turn:', 'turns:']);
const redisUrl = (s: string, where: string): string => parseUrlWithScheme(s, where, ['redis:', 'rediss:']);
const stunUrl = (s: string, where: string): string => parseUrlWithScheme(s, where, ['stun:', 'stuns:']);
const perm = (s: string, where: string): Permission => parseChoice(s, where, PERMISSIONS);

/** `10.0.0.0/8`, `::1/128` or a bare address (a /32 or /128). */
export function parseCidr(s: string, where: string): string {
  const [network = '', prefix, extra] = s.split('/');
  const family = isIP(network);
  const max = family === 6 ? 128 : 32;
  const bits = prefix === undefined ? max : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  if (family === 0 || extra !== undefined || !(bits >= 0 && bits <= max)) throw badValue(where, `${JSON.stringify(s)} is not a CIDR range (e.g. 10.0.0.0/8)`);
  new BlockList().addSubnet(network, bits, family === 6 ? 'ipv6' : 'ipv4');
  return prefix === undefined ? `${network}/${max}` : s;
}

/** `NAME:PASSWORD` of a static TURN user (the password may contain ':'). */
export function parseTurnUser(s: string, where: string): string {
  const colon = s.indexOf(':');
  if (colon < 1 || colon === s.length - 1) throw badValue(where, `${JSON.stringify(s)} is not NAME:PASSWORD`);
  return s;
}

/** `NAME:PASSWORD` items as the staticUsers map of @pinhole/turn. */
export function staticUsersOf(items: readonly string[]): Record<string, string> {
  const users: Record<string, string> = {};
  for (const item of items) {
    const colon = item.indexOf(':');
    users[item.slice(0, colon)] = item.slice(colon + 1);
  }
  return users;
}

// --- tables ---------------------------------------------------------------------------

/** Default hub port: HTTPS alt port, no root needed. */
export const DEFAULT_PORT = 8443;
/** `--port 443` means one port for everything (`--single-port`): the port proxies and firewalls let through. */
export const SINGLE_PORT = 443;
/** Default STUN/TURN port (RFC 8489 §18.1 / RFC 8656 registered port). */
export const DEFAULT_TURN_PORT = 3478;
/** TURN over TLS (RFC 8656 §3.2), when the hub serves TLS. */
export const DEFAULT_TURN_TLS_PORT = 5349;
/** Realm of TURN long-term credentials (the TURN server's own default). */
export const DEFAULT_TURN_REALM = 'pinhole';
/** Relay port range (RFC 8656 §7.2 recommends the IANA dynamic range). */
export const DEFAULT_TURN_RELAY_MIN_PORT = 49152;
export const DEFAULT_TURN_RELAY_MAX_PORT = 65535;
export const DEFAULT_HOST = '0.0.0.0';
/** Default lifetime of tokens and TURN credentials printed by `token` / `turn-credentials`. */
export const DEFAULT_TTL_SECONDS = 3600;
export const defaultDataDir = (): string => join(homedir(), '.pinhole');

/** Options every command reads: where the config file and secret come from. */
const common = {
  config: path({ help: 'JSON config file (camelCase keys); default <data-dir>/config.json if present', file: false }),
  dataDir: path({ help: 'directory for the self-signed certificate and config.json', value: 'DIR', defaultText: '~/.pinhole' }, defaultDataDir()),
  secret: text({ help: 'shared secret for tokens and TURN credentials (none: dev mode, anyone may join any room)', value: 'S' }),
};

/**
 * The TURN server's own settings, shared by `serve` (embedded TURN) and `turn` (standalone):
 * same flags, env variables and config keys, so one config file serves both.
 */
const turnServer = {
  turnRealm: text({ help: 'realm of TURN long-term credentials', value: 'REALM' }, DEFAULT_TURN_REALM),
  turnUsers: list({ flag: 'turn-user', help: 'static TURN user besides REST credentials (repeatable)', value: 'NAME:PASSWORD' }, parseTurnUser),
  turnAllowPeers: list(
    { flag: 'turn-allow-peer', help: 'relay to peers in this range although loopback/private/link-local are refused by default (repeatable)', value: 'CIDR' },
    parseCidr,
  ),
  turnExternalIp: ipAddress({ help: 'address advertised as the relayed address, e.g. the public IP behind 1:1 NAT (relay sockets bind --host); default: --host, or the first LAN address' }),
  turnRelayMinPort: port({ help: 'lowest relay port' }, DEFAULT_TURN_RELAY_MIN_PORT),
  turnRelayMaxPort: port({ help: 'highest relay port' }, DEFAULT_TURN_RELAY_MAX_PORT),
  turnMaxAllocations: count({ help: 'TURN allocations in total (then 486); default 1000' }),
  turnMaxAllocationsPerUser: count({ help: 'TURN allocations per user (then 486); default 50' }),
  turnBandwidth: amount({ help: 'relay cap per allocation in bytes/s, both directions (0: none); default 4000000', value: 'BYTES' }),
  turnMaxConnections: count({ help: `TURN TCP/TLS connections in total, more are closed at once; default ${DEFAULT_MAX_STREAM_CONNECTIONS}` }),
  turnMaxConnectionsPerSource: count({
    help: `TURN TCP/TLS connections per client IPv4 address or IPv6 /64, more are closed at once; default ${DEFAULT_MAX_STREAM_CONNECTIONS_PER_SOURCE}`,
  }),
  turnConnectionTimeout: duration({
    help: `close a TURN TCP/TLS connection that holds no allocation this long after connecting; default ${DEFAULT_STREAM_IDLE_TIMEOUT_MS / 1000}s`,
  }),
} satisfies OptionTable;

/**
 * The media server's settings (docs/deployment.md, "Media server"), shared by `serve` (embedded
 * SFU) and `sfu` (its own process): same flags, env variables and config keys. Limits not
 * given keep the SFU's defaults (DEFAULT_LIMITS of @pinhole/sfu).
 */
export const mediaServer = {
  sfuPorts: {
    type: 'string',
    value: 'LOW-HIGH',
    help: 'UDP ports of the SFU\'s media (ICE), inclusive, e.g. 40000-40999; default: any free port',
    default: undefined,
    parse: (raw: RawValue, where: string) => parsePortRange(asText(raw, where, 'a port range LOW-HIGH'), where),
  } as Option<[number, number] | undefined>,
  sfuAnnounce: ipAddress({ help: "address put in the SFU's host candidates instead of the host's own, e.g. the public IP behind 1:1 NAT (ports kept)" }),
  sfuMaxPublishersPerRoom: count({ help: 'SFU: publishers per room (members and WHIP streams); default 50' }),
  sfuMaxSubscribersPerRoom: count({ help: 'SFU: subscribers per room (members that receive through it, and WHEP viewers); default 250' }),
  sfuMaxRooms: count({ help: 'SFU: rooms it serves at once; default 100' }),
  sfuMaxForwardedStreams: count({ help: 'SFU: forwarded streams in all (one track sent to one subscriber or viewer); default 600' }),
} satisfies OptionTable;

export const serveOptions = {
  host: text({ help: 'address to listen on', value: 'ADDR' }, DEFAULT_HOST),
  port: port({ help: 'HTTP(S) port; 0 picks a free one' }, DEFAULT_PORT),
  ...common,
  apiKeys: list({ flag: 'api-key', help: 'extra bearer key for the REST API and WHIP (repeatable)', value: 'KEY' }),
  origins: list({ flag: 'origin', help: 'allowed browser origin (repeatable; none: any origin)', value: 'ORIGIN' }),
  trustProxy: flag({ help: 'take the client address from X-Forwarded-For (only behind a trusted proxy)' }),
  tlsCert: path({ help: 'TLS certificate (PEM); with --tls-key, replaces the self-signed one' }),
  tlsKey: path({ help: 'TLS private key (PEM)' }),
  noTls: flag({ help: 'serve plain HTTP (behind a TLS-terminating proxy)' }),
  singlePort: flag({
    help: `serve HTTPS/WSS, TURN over TLS and STUN/TURN over TCP all on --port, told apart per connection (always on with --port ${SINGLE_PORT}); replaces --turn-tls-port`,
  }),
  turnPort: port({ help: 'embedded STUN/TURN port (UDP and TCP); 0: no embedded TURN' }, DEFAULT_TURN_PORT),
  turnTlsPort: port({ help: 'embedded TURN-over-TLS port, with the hub certificate; 0: none; off with --no-tls or --single-port' }, DEFAULT_TURN_TLS_PORT),
  ...turnServer,
  turnUrls: list({ flag: 'turn-url', help: 'external TURN server URL handed to clients, e.g. turn:host:3478 (repeatable)', value: 'URL' }, turnUrl),
  turnSecret: text({ help: 'TURN REST API secret of the external TURN server (coturn static-auth-secret); default: --secret', value: 'S' }),
  stunUrls: list({ flag: 'stun-url', help: 'STUN server URL handed to clients, e.g. stun:host:3478 (repeatable)', value: 'URL' }, stunUrl),
  logLevel: choice({ help: 'log level (JSON logs on stdout)' }, LOG_LEVELS, 'info' as LogLevel),
  grace: duration({ help: 'how long a dropped session may resume (e.g. 30s)' }),
  heartbeat: duration({ help: 'WebSocket ping / SSE comment interval (e.g. 15s); lower it behind proxies that drop idle streams sooner' }),
  maxPeersPerRoom: count({ help: 'peers per room' }),
  maxRoomsPerSession: count({ help: 'rooms one session may join' }),
  maxConnectionsPerIp: count({ help: 'concurrent connections per client address' }),
  rate: rate({ help: 'frames per second per session (0: unlimited)' }),
  rateBurst: count({ help: 'burst allowance of the rate limit; default 2 × --rate' }),
  maxWriteBuffer: count({ help: "bytes one connection may hold unread by its client before its session ends (overflow); default 2 × the replay buffer's 4 MiB", value: 'BYTES' }),
  refuseWebsocket: flag({ help: 'diagnostics: refuse WebSocket upgrades, as a hostile proxy would, so clients fall back to SSE or long-poll' }),
  noSfu: flag({ help: 'do not run the embedded media server (SFU) as a member of the rooms; WHIP still loads it on its first request' }),
  ...mediaServer,
  redis: {
    ...text({ help: 'Redis shared by several hub nodes behind a load balancer (scale-out), e.g. redis://10.0.0.5:6379', value: 'URL' }),
    parse: (raw: RawValue, where: string) => redisUrl(asText(raw, where, 'a redis:// URL'), where),
  },
  nodeId: text({ help: "this node's name in Redis, logs and metrics with --redis; default <hostname>-<random>", value: 'ID' }),
} satisfies OptionTable;

export const tokenOptions = {
  identity: text({ help: 'identity (peer name) the token is issued to', value: 'ID', env: false, file: false }),
  room: text({ help: "room name or glob pattern (e.g. 'team-*'); none: any room", value: 'ROOM', env: false, file: false }),
  ttl: ttl({ help: 'lifetime: 30s, 15m, 1h, 2d or seconds', env: false, file: false }, DEFAULT_TTL_SECONDS),
  perms: list({ help: `comma-separated permissions: ${PERMISSIONS.join(',')}; default: the hub's`, value: 'LIST', env: false, file: false }, perm),
  service: text({ help: "a service token: the holder joins rooms as this kind of service (e.g. 'sfu'), marked so in presence", value: 'KIND', env: false, file: false }),
  ...common,
} satisfies OptionTable;

export const turnCredentialsOptions = {
  identity: text({ help: 'identity the credentials are issued to', value: 'ID', env: false, file: false }),
  ttl: ttl({ help: 'lifetime: 30s, 15m, 1h, 2d or seconds', env: false, file: false }, DEFAULT_TTL_SECONDS),
  ...common,
  turnSecret: serveOptions.turnSecret,
  turnUrls: serveOptions.turnUrls,
} satisfies OptionTable;

export const turnOptions = {
  host: serveOptions.host,
  turnPort: port({ help: 'STUN/TURN port (UDP and TCP); 0 picks free ones' }, DEFAULT_TURN_PORT),
  turnTlsPort: port({ help: 'TURN-over-TLS port, with --tls-cert/--tls-key (e.g. 443); 0 picks a free one' }, DEFAULT_TURN_TLS_PORT),
  tlsCert: path({ help: 'TLS certificate (PEM) for TURN over TLS; none: no TLS listener' }),
  tlsKey: path({ help: 'TLS private key (PEM)' }),
  ...common,
  secret: text({ help: "the hub's shared secret: TURN REST API credentials are checked against it", value: 'S' }),
  turnSecret: text({ help: 'TURN REST API shared secret (coturn static-auth-secret); default: --secret', value: 'S' }),
  ...turnServer,
  metricsPort: optionalPort({ help: 'serve Prometheus metrics on http://<host>:PORT/metrics (0 picks a free port); none: off' }),
  logLevel: serveOptions.logLevel,
} satisfies OptionTable;

export type ServeValues = Values<typeof serveOptions>;
export type TurnValues = Values<typeof turnOptions>;
export type TokenValues = Values<typeof tokenOptions>;
export type TurnCredentialsValues = Values<typeof turnCredentialsOptions>;

/** Every key a config file may hold: a file is shared by all commands. */
export const CONFIG_FILE_KEYS: ReadonlySet<string> = new Set(
  [serveOptions, turnOptions, tokenOptions, turnCredentialsOptions].flatMap((t) =>
    Object.entries(t as OptionTable)
      .filter(([, o]) => inFile(o))
      .map(([k]) => k),
  ),
);
