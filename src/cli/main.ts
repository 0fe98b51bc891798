#!/usr/bin/env node
/**
 * skiff entry point: parse argv with yargs, hand over to a command module, print
 * errors as one `Error: ...` line with Docker's exit codes.
 */
import yargs from 'yargs';
import { configure } from '../config.js';
import { describeError, exitCodeOf } from '../errors.js';
import { commands } from './commands/index.js';
import { maybeReexecInUserns } from './userns.js';
import { setPassthrough, splitArgv } from './argv.js';

export async function main(argv: string[]): Promise<void> {
  const { head, tail } = splitArgv(argv);
  setPassthrough(tail);
  const parser = yargs(head)
    .scriptName('skiff')
    .usage('Usage: skiff [OPTIONS] COMMAND\n\nA daemonless, Docker-compatible container engine')
    .option('root', { type: 'string', describe: 'Storage root (default /var/lib/skiff, or ~/.local/share/skiff rootless; env SKIFF_ROOT)', global: true })
    .option('runroot', { type: 'string', describe: 'Runtime state dir (env SKIFF_RUNROOT)', global: true, hidden: true })
    .middleware((a) => {
      configure({ root: a.root as string | undefined, runroot: a.runroot as string | undefined });
    })
    .command(commands)
    .demandCommand(1, 'Run \'skiff --help\' for a list of commands')
    .strictCommands()
    .strictOptions()
    .parserConfiguration({ 'halt-at-non-option': false, 'unknown-options-as-args': false, 'boolean-negation': false })
    .version(false)
    .help()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  await maybeReexecInUserns(argv);
  await parser.parseAsync();
}

class UsageError extends Error {}

main(process.argv.slice(2)).catch((err: unknown) => {
  const msg = describeError(err);
  process.stderr.write(`Error: ${msg}${err instanceof UsageError ? "\nSee 'skiff --help'." : ''}\n`);
  if (process.env.SKIFF_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  process.exitCode = exitCodeOf(err);
});
