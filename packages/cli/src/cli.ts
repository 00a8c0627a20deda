/** `runCli`: dispatches a command, maps errors to one stderr line and an exit code. */
import { readFileSync } from 'node:fs';
import { bundledFiles } from './bundled.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from './errors.js';
import { renderMainHelp, type CommandHelp } from './help.js';
import { defaultIO, type CliIO } from './io.js';
import { serveCommand, serveHelp } from './commands/serve.js';
import { sfuCommand, sfuHelp } from './commands/sfu.js';
import { tokenCommand, tokenHelp } from './commands/token.js';
import { turnCommand, turnHelp } from './commands/turn-server.js';
import { turnCredentialsCommand, turnCredentialsHelp } from './commands/turn-credentials.js';
import { agentCommand, agentHelp } from './commands/agent.js';
import { connectCommand, connectHelp } from './commands/connect.js';
import { answerCommand, answerHelp, offerCommand, offerHelp } from './commands/offer-answer.js';

interface Command {
  help: CommandHelp;
  run(argv: readonly string[], io: CliIO): Promise<number>;
}

const COMMANDS: readonly Command[] = [
  { help: serveHelp, run: serveCommand },
  { help: turnHelp, run: turnCommand },
  { help: sfuHelp, run: sfuCommand },
  { help: tokenHelp, run: tokenCommand },
  { help: turnCredentialsHelp, run: turnCredentialsCommand },
  { help: agentHelp, run: agentCommand },
  { help: connectHelp, run: connectCommand },
  { help: offerHelp, run: offerCommand },
  { help: answerHelp, run: answerCommand },
];

/** The version in this package's package.json (one level above both src/ and dist/), or the executable's. */
export function cliVersion(): string {
  const bundled = bundledFiles();
  if (bundled) return bundled.version;
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * What the executables (bin.ts, sea-main.ts) do with runCli's code: it becomes the exit
 * code. Everything was closed; if a stray handle still holds the event loop, the process
 * exits anyway after 5 s rather than hang.
 */
export function exitWith(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 5_000).unref();
}

/**
 * Runs `pinhole <argv>` and resolves with the exit code: 0 ok, 2 bad usage or
 * configuration, 1 run-time failure. Never throws; errors become one line on `io.stderr`.
 */
export async function runCli(argv: readonly string[], io: Partial<CliIO> = {}): Promise<number> {
  const full: CliIO = { ...defaultIO(), ...io };
  const [name, ...rest] = argv;
  const mainHelp = (): string => renderMainHelp(cliVersion(), COMMANDS.map((c) => c.help));
  try {
    if (name === undefined) {
      full.stderr.write(mainHelp());
      return EXIT_USAGE;
    }
    if (name === '-h' || name === '--help') {
      full.stdout.write(mainHelp());
      return 0;
    }
    if (name === '-V' || name === '--version') {
      full.stdout.write(`${cliVersion()}\n`);
      return 0;
    }
    if (name === 'help') {
      const target = COMMANDS.find((c) => c.help.name === rest[0]);
      return target ? target.run(['--help'], full) : (full.stdout.write(mainHelp()), 0);
    }
    const command = COMMANDS.find((c) => c.help.name === name);
    if (!command) {
      const what = name.startsWith('-') ? `unknown option ${name}` : `unknown command '${name}'`;
      throw new CliError('usage', `${what} (commands: ${COMMANDS.map((c) => c.help.name).join(', ')}; see 'pinhole --help')`);
    }
    return await command.run(rest, full);
  } catch (err) {
    if (err instanceof CliError) {
      full.stderr.write(`pinhole: ${err.message}\n`);
      return err.exitCode;
    }
    full.stderr.write(`pinhole: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT_FAILURE;
  }
}
