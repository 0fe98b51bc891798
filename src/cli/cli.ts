/**
 * The full CLI: argv parsed by yargs over every command module. The entry (main.ts) gets here
 * for everything the run path (fast.ts) does not take, and for `--help`.
 */
import yargs, { type Argv, type CommandModule } from 'yargs';
import { configure } from '../config.js';
import { UsageError } from '../errors.js';
import { commands } from './commands/index.js';
import { maybeReexecInUserns } from './userns.js';
import { setPassthrough, splitArgv } from './argv.js';
import { GLOBAL_OPTIONS } from './options.js';
import { registeredSummaries, runRegistered } from './registry.js';

/** The top-level words of the yargs tree (commands and their aliases). */
const yargsWords = (cmds: readonly CommandModule[]): Set<string> =>
  new Set(cmds.flatMap((m) => [m.command, ...[m.aliases ?? []].flat()].flatMap((c) => (typeof c === 'string' ? [c.split(' ')[0]!] : []))));

export async function runCli(argv: string[]): Promise<void> {
  if (await runRegistered(argv, yargsWords(commands))) return;
  const { head, tail } = splitArgv(argv);
  setPassthrough(tail);
  const parser = buildParser(head);
  await maybeReexecInUserns(argv);
  await parser.parseAsync();
}

/** The yargs parser over `cmds` (every command; tests pass their own handlers) for argv `head`. */
export function buildParser(head: string[], cmds: CommandModule[] = commands): Argv {
  return yargs(head)
    .scriptName('skiff')
    .usage('Usage: skiff [OPTIONS] COMMAND\n\nA daemonless, Docker-compatible container engine')
    .options(GLOBAL_OPTIONS)
    .middleware((a) => {
      configure({ root: a.root as string | undefined, runroot: a.runroot as string | undefined });
    })
    .command([
      ...cmds,
      ...registeredSummaries(yargsWords(cmds)).map((r) => ({ ...r, handler: (): never => { throw new UsageError('command', `unknown command: skiff ${r.command}`, '', ''); } })),
    ])
    .demandCommand(1, 'Run \'skiff --help\' for a list of commands')
    .strictCommands()
    .strictOptions()
    .parserConfiguration({ 'halt-at-non-option': false, 'unknown-options-as-args': false, 'boolean-negation': false })
    .version(false)
    .help()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      // yargs' words, printed by main.ts as before (exit 125) until every command is in the registry
      throw err ?? new UsageError('flag', msg, '', '');
    });
}
