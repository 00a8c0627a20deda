/** Help text, rendered from the option tables so it cannot drift from what is parsed. */
import { envOf, flagOf, inFile, type OptionTable } from './options.js';

export interface CommandHelp {
  name: string;
  summary: string;
  usage: string;
  description?: string;
  table: OptionTable;
}

function defaultText(d: unknown): string | undefined {
  if (d === undefined || d === false) return undefined;
  if (Array.isArray(d)) return d.length ? d.join(',') : undefined;
  return String(d);
}

export function renderCommandHelp(cmd: CommandHelp): string {
  const rows: [string, string][] = [];
  for (const [key, o] of Object.entries(cmd.table)) {
    const left = `--${flagOf(key, o)}${o.type === 'boolean' ? '' : ` ${o.value ?? 'VALUE'}`}`;
    const notes: string[] = [];
    const d = o.defaultText ?? defaultText(o.default);
    if (d !== undefined) notes.push(`default ${d}`);
    const env = envOf(key, o);
    if (env) notes.push(`env ${env}`);
    if (inFile(o)) notes.push(`config "${key}"`);
    rows.push([left, `${o.help}${notes.length ? ` [${notes.join('; ')}]` : ''}`]);
  }
  rows.push(['-h, --help', 'show this help']);
  const width = Math.min(32, Math.max(...rows.map(([l]) => l.length)));
  const lines = rows.map(([l, r]) => (l.length > width ? `  ${l}\n  ${' '.repeat(width)}  ${r}` : `  ${l.padEnd(width)}  ${r}`));
  return [
    `Usage: ${cmd.usage}`,
    '',
    cmd.summary,
    ...(cmd.description ? ['', cmd.description] : []),
    '',
    'Options (precedence: flag > env > config file > default):',
    ...lines,
    '',
  ].join('\n');
}

export function renderMainHelp(version: string, commands: readonly CommandHelp[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `pinhole ${version} — WebRTC signaling hub, tokens and TURN credentials`,
    '',
    'Usage: pinhole <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h, --help     show help (also: pinhole <command> --help)',
    '  -V, --version  print the version',
    '',
    'Every option can also come from PINHOLE_<NAME> environment variables and a JSON',
    'config file (--config FILE, PINHOLE_CONFIG, or <data-dir>/config.json).',
    '',
  ].join('\n');
}
