/**
 * The command registry: every command written as a descriptor (command.ts, `defineCommand`), one file
 * per verb under `commands/<group>/<verb>.ts`. A command line whose words name a registered command is
 * parsed by parse.ts (pflag's rules) and run here; the others still go to the yargs tree (cli.ts) until
 * every command is a descriptor (issue 21). Add a command: write its file and list it in REGISTERED.
 */
import { inUserns, reexecInUserns } from '../userns/enter.js';
import { configure } from '../config.js';
import { UsageError } from '../errors.js';
import { commandLine, GROUPS, type Command, type CommandContext, type Group } from './command.js';
import { aliasesOf } from './option-index.js';
import { findCommand, parseCommand, usageOf, withDefaults } from './parse.js';
import type { OptionTable } from './command.js';
import { COMPOSE_OPTIONS } from './commands/compose/project-options.js';
import { printOutput } from './print.js';

import composeConfig from './commands/compose/config.js';
import composeDown from './commands/compose/down.js';
import composeExec from './commands/compose/exec.js';
import composeLogs from './commands/compose/logs.js';
import composePs from './commands/compose/ps.js';
import composeRun from './commands/compose/run.js';
import composeUp from './commands/compose/up.js';

/** Every registered descriptor. */
export const REGISTERED: readonly Command[] = [composeUp, composeDown, composePs, composeLogs, composeConfig, composeExec, composeRun];

/**
 * Groups with options of their own, given between the group and its verb (`skiff compose -f a.yaml
 * -p demo up -d`, as `docker compose`); the handler reads them from `ctx.group`.
 */
export const GROUP_OPTIONS: Readonly<Record<string, OptionTable>> = { compose: COMPOSE_OPTIONS };

const namedOf = (cmds: readonly Command[]) => cmds.map((c) => ({ group: c.group as string, name: c.name, aliases: c.aliases ?? [], c }));

/** Docker's help of one command: usage line, description, options. */
export function helpOf(c: Command, invokedAs: string): string {
  const rows = optionRows(c.options);
  const aliases = c.aliases?.length ? `\nAliases:\n  ${[commandLine(c), ...c.aliases].join(', ')}\n` : '';
  const opts = rows ? `\nOptions:\n${rows}\n` : '';
  return `\nUsage:  skiff ${invokedAs} ${usageOf(c)}\n\n${c.describe}\n${aliases}${opts}`;
}

/** The option rows of a help text. */
function optionRows(table: OptionTable): string {
  const rows = Object.entries(table)
    .filter(([, o]) => !o.hidden)
    .map(([k, o]) => {
      const short = aliasesOf(o).find((a) => a.length === 1);
      const type = o.type === 'boolean' ? '' : o.repeat ? ' list' : o.type === 'int' ? ' int' : o.format === 'duration' ? ' duration' : ' string';
      const def = o.default !== undefined && o.default !== false && o.default !== '' ? ` (default ${JSON.stringify(o.default)})` : '';
      return [`${short ? `-${short}, ` : '    '}--${k}${type}`, `${o.describe ?? ''}${def}`] as const;
    });
  const w = Math.max(0, ...rows.map((r) => r[0].length));
  return rows.map(([a, b]) => `  ${a.padEnd(w)}   ${b}`).join('\n');
}

/** The help of a management group whose verbs are all registered. */
function groupHelp(group: string, cmds: readonly Command[], own: OptionTable | undefined): string {
  const verbs = cmds.filter((c) => c.group === group && !c.hidden);
  const w = Math.max(0, ...verbs.map((c) => c.name.length));
  const opts = own ? `\nOptions:\n${optionRows(own)}\n` : '';
  return `\nUsage:  skiff ${group} ${own ? '[OPTIONS] ' : ''}COMMAND\n\n${GROUPS[group as Group] ?? ''}\n${opts}\nCommands:\n${verbs.map((c) => `  ${c.name.padEnd(w)}   ${c.describe}`).join('\n')}\n\nRun 'skiff ${group} COMMAND --help' for more information on a command.\n`;
}

/**
 * Run argv if it names a registered command (or the help of a group only the registry has); false:
 * the yargs tree takes it. `yargsWords`: the top-level words yargs knows (their groups' help stays there).
 */
export async function runRegistered(
  argv: readonly string[],
  yargsWords: ReadonlySet<string>,
  cmds: readonly Command[] = REGISTERED,
  groupOptions: Readonly<Record<string, OptionTable>> = GROUP_OPTIONS,
): Promise<boolean> {
  const named = namedOf(cmds);
  if (!named.length) return false;
  let found;
  try {
    found = findCommand(argv, named, groupOptions);
  } catch (e) {
    // not a registered command line: yargs says what it is, unless the word is the registry's alone
    if (e instanceof UsageError && !registeredOnly(argv, yargsWords, cmds)) return false;
    throw e;
  }
  if (!found.command) {
    if (!found.group || yargsWords.has(found.group)) return false;
    process.stdout.write(groupHelp(found.group, cmds, groupOptions[found.group]));
    return true;
  }
  const c = found.command.c;
  configure({ root: found.root.root as string | undefined, runroot: found.root.runroot as string | undefined });
  const parsed = parseCommand(found.rest, c, found.invokedAs);
  if (parsed === 'help') {
    process.stdout.write(helpOf(c, found.invokedAs));
    return true;
  }
  configure({ root: (parsed.options.root ?? found.root.root) as string | undefined, runroot: (parsed.options.runroot ?? found.root.runroot) as string | undefined });
  if (c.userns && process.getuid!() !== 0 && !inUserns()) reexecInUserns([...argv]);
  const ctx: CommandContext = {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    invokedAs: found.invokedAs,
    group: withDefaults(groupOptions[c.group] ?? {}, found.groupValues),
    beforeExecve: () => undefined,
  };
  const code = await printOutput(await c.run(parsed, ctx));
  if (code) process.exitCode = code;
  return true;
}

/** Whether argv's first word is a group or command only the registry has. */
function registeredOnly(argv: readonly string[], yargsWords: ReadonlySet<string>, cmds: readonly Command[]): boolean {
  const word = argv.find((a) => !a.startsWith('-'));
  return word !== undefined && !yargsWords.has(word) && cmds.some((c) => (c.group === 'top' ? c.name : c.group) === word);
}

/** yargs entries for the registered groups and top-level commands it does not have (its `--help` lists them). */
export function registeredSummaries(yargsWords: ReadonlySet<string>): { command: string; describe: string }[] {
  const out = new Map<string, string>();
  for (const c of REGISTERED) {
    if (c.hidden) continue;
    const word = c.group === 'top' ? c.name : c.group;
    if (!yargsWords.has(word) && !out.has(word)) out.set(word, c.group === 'top' ? c.describe : GROUPS[c.group]);
  }
  return [...out].map(([command, describe]) => ({ command, describe }));
}
