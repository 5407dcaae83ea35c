#!/usr/bin/env node
/**
 * The `hookline` program: `hookline <command> [options]`. See docs/cli.md.
 *
 * Exit codes: 0 done; 1 an error (a hookline error prints `hookline <command>: <message>
 * (<code>)`); 2 bad arguments (the usage goes to stderr); 130 interrupted.
 *
 * @module
 */
import { isHooklineError } from '../errors.js';
import { VERSION } from '../version.js';
import { type Command, commandHelp, parseCommand, UsageError } from './args.js';
import { attemptsCommand } from './commands/attempts.js';
import { cancelCommand } from './commands/cancel.js';
import { deliveriesCommand } from './commands/deliveries.js';
import { migrateCommand } from './commands/migrate.js';
import { recoverCommand } from './commands/recover.js';
import { generateSecretKeyCommand, rotateSecretsCommand } from './commands/secrets.js';
import { statsCommand } from './commands/stats.js';
import { workerCommand } from './commands/worker.js';
import { err, out, redact } from './output.js';

const COMMANDS: readonly Command[] = [
  migrateCommand,
  workerCommand,
  statsCommand,
  recoverCommand,
  cancelCommand,
  deliveriesCommand,
  attemptsCommand,
  rotateSecretsCommand,
  generateSecretKeyCommand,
] as unknown as readonly Command[];

function programHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    `hookline ${VERSION}: run and operate hookline's outgoing webhooks.`,
    '',
    'Usage: hookline <command> [options]',
    '       hookline <command> --help',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Options:',
    '  -h, --help     Show this help',
    '  -v, --version  Print the version',
    '',
    'Connection: --database-url postgres://… or pglite:<dir> (default $DATABASE_URL), --schema.',
    'Exit codes: 0 done, 1 error, 2 bad arguments, 130 interrupted.',
    '',
  ].join('\n');
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs the program with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    if (name === 'help' && rest[0] !== undefined) return main([rest[0], '--help']);
    (name === undefined ? err : out)(programHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    out(`${VERSION}\n`);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    err(`hookline: unknown command "${name}"\n\n${programHelp()}`);
    return 2;
  }
  try {
    const values = parseCommand(cmd, rest);
    if (values === undefined) {
      out(commandHelp(cmd));
      return 0;
    }
    return await cmd.run(values);
  } catch (error) {
    if (error instanceof UsageError) {
      err(`hookline ${cmd.name}: ${error.message}\n\n${commandHelp(error.command ?? cmd)}`);
      return 2;
    }
    if (isHooklineError(error)) {
      // The store's hint names the library call; a terminal user runs the command.
      const text = message(error).replace(
        /run `await store\.migrate\(\)` \(or `migrate\(\{ db, schema \}\)`\)/,
        'run `hookline migrate`',
      );
      err(`hookline ${cmd.name}: ${text} (${error.code})\n`);
      if (process.env.HOOKLINE_DEBUG && error.cause) err(`cause: ${redact(message(error.cause))}\n`);
      return 1;
    }
    // Not hookline's: a bug or an environment problem. The stack only on request.
    err(`hookline ${cmd.name}: ${message(error)}\n`);
    if (process.env.HOOKLINE_DEBUG && error instanceof Error && error.stack) err(`${error.stack}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
// The worker command ends with its own cleanup; anything still holding the event loop (a
// receiver's keep-alive socket, a timer of a config) must not keep a finished command alive.
setTimeout(() => process.exit(code), 2_000).unref();
