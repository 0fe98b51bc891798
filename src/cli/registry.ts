/**
 * The command registry: every command is a descriptor (command.ts, `defineCommand`), one file per verb
 * under `commands/<group>/<verb>.ts`, listed in COMMANDS. `runRegistered` is the one dispatch: the
 * command word is found by parse.ts (findCommand), the arguments read with pflag's rules (parseCommand),
 * the rootless re-exec decided by the descriptor's `userns`, the handler run and its output printed
 * (print.ts); the help of skiff, of a group and of a command comes from the descriptors.
 * Add a command: write its file and add one entry to COMMANDS (sorted by group, then verb) with its
 * aliases, the descriptor's own (a unit test compares them): a command's module is evaluated only when
 * it runs, or for help and completion.
 */
import { configure } from '../config.js';
import { mark } from '../lib/trace.js';
import { skiffVersion } from '../lib/version.js';
import { commandLine, GROUPS, type Command, type CommandContext, type Group, type OptionTable } from './command.js';
import { saveCodeCache } from './launcher.js';
import { aliasesOf } from './option-index.js';
import { findCommand, parseCommand, PERSISTENT_OPTIONS, ROOT_OPTIONS, usageOf, withDefaults } from './parse.js';
import { COMPOSE_OPTIONS } from './commands/compose/project-options.js';
import { printOutput } from './print.js';

/** A command as the registry knows it before its module is loaded: its words, and its descriptor's module. */
export interface IndexEntry {
  group: Group;
  name: string;
  /** the descriptor's `aliases`, the same list (test/unit/registry.test.ts compares them) */
  aliases?: readonly string[];
  load: () => Promise<{ default: Command }>;
}

/**
 * Every command, sorted by group then verb: its command line words and its descriptor's module, loaded
 * (evaluated) only when that command runs: a `run` evaluates one descriptor module of ~100 (help,
 * completion and the man page load them all: loadRegistered()).
 */
export const COMMANDS: readonly IndexEntry[] = [
  { group: 'builder', name: 'prune', aliases: ['buildx prune'], load: () => import('./commands/builder/prune.js') },
  { group: 'compose', name: 'attach', load: () => import('./commands/compose/attach.js') },
  { group: 'compose', name: 'build', load: () => import('./commands/compose/build.js') },
  { group: 'compose', name: 'config', aliases: ['compose convert'], load: () => import('./commands/compose/config.js') },
  { group: 'compose', name: 'cp', load: () => import('./commands/compose/cp.js') },
  { group: 'compose', name: 'create', load: () => import('./commands/compose/create.js') },
  { group: 'compose', name: 'down', load: () => import('./commands/compose/down.js') },
  { group: 'compose', name: 'events', load: () => import('./commands/compose/events.js') },
  { group: 'compose', name: 'exec', load: () => import('./commands/compose/exec.js') },
  { group: 'compose', name: 'images', load: () => import('./commands/compose/images.js') },
  { group: 'compose', name: 'kill', load: () => import('./commands/compose/kill.js') },
  { group: 'compose', name: 'logs', load: () => import('./commands/compose/logs.js') },
  { group: 'compose', name: 'ls', load: () => import('./commands/compose/ls.js') },
  { group: 'compose', name: 'pause', load: () => import('./commands/compose/pause.js') },
  { group: 'compose', name: 'port', load: () => import('./commands/compose/port.js') },
  { group: 'compose', name: 'ps', load: () => import('./commands/compose/ps.js') },
  { group: 'compose', name: 'pull', load: () => import('./commands/compose/pull.js') },
  { group: 'compose', name: 'push', load: () => import('./commands/compose/push.js') },
  { group: 'compose', name: 'restart', load: () => import('./commands/compose/restart.js') },
  { group: 'compose', name: 'rm', load: () => import('./commands/compose/rm.js') },
  { group: 'compose', name: 'run', load: () => import('./commands/compose/run.js') },
  { group: 'compose', name: 'start', load: () => import('./commands/compose/start.js') },
  { group: 'compose', name: 'stop', load: () => import('./commands/compose/stop.js') },
  { group: 'compose', name: 'top', load: () => import('./commands/compose/top.js') },
  { group: 'compose', name: 'unpause', load: () => import('./commands/compose/unpause.js') },
  { group: 'compose', name: 'up', load: () => import('./commands/compose/up.js') },
  { group: 'compose', name: 'version', load: () => import('./commands/compose/version.js') },
  { group: 'compose', name: 'wait', load: () => import('./commands/compose/wait.js') },
  { group: 'compose', name: 'watch', load: () => import('./commands/compose/watch.js') },
  { group: 'container', name: 'attach', aliases: ['attach'], load: () => import('./commands/container/attach.js') },
  { group: 'container', name: 'commit', aliases: ['commit'], load: () => import('./commands/container/commit.js') },
  { group: 'container', name: 'cp', aliases: ['cp'], load: () => import('./commands/container/cp.js') },
  { group: 'container', name: 'create', aliases: ['create'], load: () => import('./commands/container/create.js') },
  { group: 'container', name: 'diff', aliases: ['diff'], load: () => import('./commands/container/diff.js') },
  { group: 'container', name: 'exec', aliases: ['exec'], load: () => import('./commands/container/exec.js') },
  { group: 'container', name: 'exists', load: () => import('./commands/container/exists.js') },
  { group: 'container', name: 'export', aliases: ['export'], load: () => import('./commands/container/export.js') },
  { group: 'container', name: 'inspect', load: () => import('./commands/container/inspect.js') },
  { group: 'container', name: 'kill', aliases: ['kill'], load: () => import('./commands/container/kill.js') },
  { group: 'container', name: 'logs', aliases: ['logs'], load: () => import('./commands/container/logs.js') },
  { group: 'container', name: 'ls', aliases: ['container list', 'container ps', 'ps'], load: () => import('./commands/container/ls.js') },
  { group: 'container', name: 'pause', aliases: ['pause'], load: () => import('./commands/container/pause.js') },
  { group: 'container', name: 'port', aliases: ['port'], load: () => import('./commands/container/port.js') },
  { group: 'container', name: 'prune', load: () => import('./commands/container/prune.js') },
  { group: 'container', name: 'rename', aliases: ['rename'], load: () => import('./commands/container/rename.js') },
  { group: 'container', name: 'restart', aliases: ['restart'], load: () => import('./commands/container/restart.js') },
  { group: 'container', name: 'rm', aliases: ['container remove', 'rm'], load: () => import('./commands/container/rm.js') },
  { group: 'container', name: 'run', aliases: ['run'], load: () => import('./commands/container/run.js') },
  { group: 'container', name: 'start', aliases: ['start'], load: () => import('./commands/container/start.js') },
  { group: 'container', name: 'stats', aliases: ['stats'], load: () => import('./commands/container/stats.js') },
  { group: 'container', name: 'stop', aliases: ['stop'], load: () => import('./commands/container/stop.js') },
  { group: 'container', name: 'top', aliases: ['top'], load: () => import('./commands/container/top.js') },
  { group: 'container', name: 'unpause', aliases: ['unpause'], load: () => import('./commands/container/unpause.js') },
  { group: 'container', name: 'update', aliases: ['update'], load: () => import('./commands/container/update.js') },
  { group: 'container', name: 'wait', aliases: ['wait'], load: () => import('./commands/container/wait.js') },
  { group: 'generate', name: 'systemd', load: () => import('./commands/generate/systemd.js') },
  { group: 'image', name: 'build', aliases: ['build', 'builder build', 'buildx build'], load: () => import('./commands/image/build.js') },
  { group: 'image', name: 'exists', load: () => import('./commands/image/exists.js') },
  { group: 'image', name: 'history', aliases: ['history'], load: () => import('./commands/image/history.js') },
  { group: 'image', name: 'import', aliases: ['import'], load: () => import('./commands/image/import.js') },
  { group: 'image', name: 'inspect', load: () => import('./commands/image/inspect.js') },
  { group: 'image', name: 'load', aliases: ['load'], load: () => import('./commands/image/load.js') },
  { group: 'image', name: 'ls', aliases: ['image list', 'images'], load: () => import('./commands/image/ls.js') },
  { group: 'image', name: 'prune', load: () => import('./commands/image/prune.js') },
  { group: 'image', name: 'pull', aliases: ['pull'], load: () => import('./commands/image/pull.js') },
  { group: 'image', name: 'push', aliases: ['push'], load: () => import('./commands/image/push.js') },
  { group: 'image', name: 'rm', aliases: ['image remove', 'rmi'], load: () => import('./commands/image/rm.js') },
  { group: 'image', name: 'save', aliases: ['save'], load: () => import('./commands/image/save.js') },
  { group: 'image', name: 'tag', aliases: ['tag'], load: () => import('./commands/image/tag.js') },
  { group: 'image', name: 'untag', aliases: ['untag'], load: () => import('./commands/image/untag.js') },
  { group: 'kube', name: 'down', load: () => import('./commands/kube/down.js') },
  { group: 'kube', name: 'generate', aliases: ['generate kube'], load: () => import('./commands/kube/generate.js') },
  { group: 'kube', name: 'play', aliases: ['play kube'], load: () => import('./commands/kube/play.js') },
  { group: 'network', name: 'connect', load: () => import('./commands/network/connect.js') },
  { group: 'network', name: 'create', load: () => import('./commands/network/create.js') },
  { group: 'network', name: 'disconnect', load: () => import('./commands/network/disconnect.js') },
  { group: 'network', name: 'inspect', load: () => import('./commands/network/inspect.js') },
  { group: 'network', name: 'ls', aliases: ['network list'], load: () => import('./commands/network/ls.js') },
  { group: 'network', name: 'prune', load: () => import('./commands/network/prune.js') },
  { group: 'network', name: 'rm', aliases: ['network remove'], load: () => import('./commands/network/rm.js') },
  { group: 'system', name: 'autostart', load: () => import('./commands/system/autostart.js') },
  { group: 'system', name: 'df', load: () => import('./commands/system/df.js') },
  { group: 'system', name: 'events', aliases: ['events'], load: () => import('./commands/system/events.js') },
  { group: 'system', name: 'info', aliases: ['info'], load: () => import('./commands/system/info.js') },
  { group: 'system', name: 'prune', load: () => import('./commands/system/prune.js') },
  { group: 'system', name: 'reset', load: () => import('./commands/system/reset.js') },
  { group: 'system', name: 'service', load: () => import('./commands/system/service.js') },
  { group: 'top', name: 'completion', load: () => import('./commands/top/completion.js') },
  { group: 'top', name: 'inspect', load: () => import('./commands/top/inspect.js') },
  { group: 'top', name: 'login', load: () => import('./commands/top/login.js') },
  { group: 'top', name: 'logout', load: () => import('./commands/top/logout.js') },
  { group: 'top', name: 'version', load: () => import('./commands/top/version.js') },
  { group: 'volume', name: 'create', load: () => import('./commands/volume/create.js') },
  { group: 'volume', name: 'exists', load: () => import('./commands/volume/exists.js') },
  { group: 'volume', name: 'inspect', load: () => import('./commands/volume/inspect.js') },
  { group: 'volume', name: 'ls', aliases: ['volume list'], load: () => import('./commands/volume/ls.js') },
  { group: 'volume', name: 'prune', load: () => import('./commands/volume/prune.js') },
  { group: 'volume', name: 'rm', aliases: ['volume remove'], load: () => import('./commands/volume/rm.js') },
];

/**
 * Groups with options of their own, given between the group and its verb (`skiff compose -f a.yaml
 * -p demo up -d`, as `docker compose`); the handler reads them from `ctx.group`.
 */
export const GROUP_OPTIONS: Readonly<Record<string, OptionTable>> = { compose: COMPOSE_OPTIONS };

/** Index entries or descriptors (the unit tests hand runRegistered their own) as findCommand looks them up. */
const namedOf = (cmds: readonly (IndexEntry | Command)[]) =>
  cmds.map((c) => ({ group: c.group as string, name: c.name, aliases: c.aliases ?? [], load: 'load' in c ? async () => (await c.load()).default : async () => c }));

/** The descriptors of `cmds` (index entries loaded). */
const descriptorsOf = (cmds: readonly (IndexEntry | Command)[]): Promise<Command[]> => Promise.all(namedOf(cmds).map((n) => n.load()));

/** Every descriptor (help, completion, the man page and the tests: each module loaded). */
export const loadRegistered = (entries: readonly IndexEntry[] = COMMANDS): Promise<Command[]> => descriptorsOf(entries);

/** A table's visible options as help shows them: [`-a, --all` / `    --name string`, description (default ...)]; the man page too. */
export function optionEntries(table: OptionTable): (readonly [string, string])[] {
  return Object.entries(table)
    .filter(([, o]) => !o.hidden)
    .map(([k, o]) => {
      const short = aliasesOf(o).find((a) => a.length === 1);
      const type = o.type === 'boolean' ? '' : o.repeat ? ' list' : o.type === 'int' ? ' int' : o.format === 'duration' ? ' duration' : ' string';
      const def = o.default !== undefined && o.default !== false && o.default !== '' ? ` (default ${JSON.stringify(o.default)})` : '';
      return [`${short ? `-${short}, ` : '    '}--${k}${type}`, `${o.describe ?? ''}${def}`] as const;
    });
}

/** pflag's option rows: `  -a, --all             Show all ...` (hidden ones left out). */
function optionRows(table: OptionTable): string {
  const rows = optionEntries(table);
  const w = Math.max(0, ...rows.map((r) => r[0].length));
  return rows.map(([a, b]) => `  ${a.padEnd(w)}   ${b}`).join('\n');
}

/** Rows `  name   description` aligned. */
const listRows = (rows: readonly (readonly [string, string])[]): string => {
  const w = Math.max(0, ...rows.map((r) => r[0].length));
  return rows.map(([a, b]) => `  ${a.padEnd(w)}   ${b}`).join('\n');
};

/** Docker's help of one command: usage line, description, aliases, options. */
export function helpOf(c: Command, invokedAs: string): string {
  const rows = optionRows(c.options);
  const aliases = c.aliases?.length ? `\nAliases:\n  ${[commandLine(c), ...c.aliases].map((l) => `skiff ${l}`).join(', ')}\n` : '';
  return `\nUsage:  skiff ${invokedAs} ${usageOf(c)}\n\n${c.describe}\n${aliases}${rows ? `\nOptions:\n${rows}\n` : ''}`;
}

/** The commands a group word lists: its verbs, and alias lines under the word (`generate kube`, `buildx build`). */
function verbsOf(group: string, cmds: readonly Command[]): [string, Command][] {
  const own = cmds.filter((c) => c.group === group && !c.hidden).map((c): [string, Command] => [c.name, c]);
  const aliased = cmds.flatMap((c) => (c.hidden || c.group === group ? [] : (c.aliases ?? []).filter((l) => l.startsWith(`${group} `)).map((l): [string, Command] => [l.slice(group.length + 1), c])));
  return [...own, ...aliased];
}

/** The help of a management group (`skiff container`). */
export function groupHelp(group: string, cmds: readonly Command[], own: OptionTable | undefined = GROUP_OPTIONS[group]): string {
  const verbs = verbsOf(group, cmds).sort(([a], [b]) => (a < b ? -1 : 1));
  const opts = own ? `\nOptions:\n${optionRows(own)}\n` : '';
  return `\nUsage:  skiff ${group} ${own ? '[OPTIONS] ' : ''}COMMAND\n\n${GROUPS[group as Group] ?? ''}\n${opts}\nCommands:\n${listRows(verbs.map(([v, c]) => [v, c.describe]))}\n\nRun 'skiff ${group} COMMAND --help' for more information on a command.\n`;
}

/** Docker's most used commands, listed first in `skiff --help` (those skiff has). */
const COMMON = ['run', 'exec', 'ps', 'build', 'pull', 'push', 'images', 'login', 'logout', 'search', 'version', 'info'];

/** `skiff --help`: common commands, management commands (groups), the other commands, global options. */
export function topHelp(cmds: readonly Command[]): string {
  const singles = new Map<string, Command>();
  for (const c of cmds) {
    if (c.hidden) continue;
    for (const l of [commandLine(c), ...(c.aliases ?? [])]) if (!l.includes(' ')) singles.set(l, c);
  }
  const groups = [...new Set(cmds.filter((c) => c.group !== 'top' && !c.hidden).map((c) => c.group))].sort();
  const common = COMMON.filter((w) => singles.has(w)).map((w): [string, string] => [w, singles.get(w)!.describe]);
  const others = [...singles].filter(([w]) => !COMMON.includes(w)).sort(([a], [b]) => (a < b ? -1 : 1)).map(([w, c]): [string, string] => [w, c.describe]);
  return (
    `\nUsage:  skiff [OPTIONS] COMMAND\n\nA daemonless, Docker-compatible container engine\n\n` +
    `Common Commands:\n${listRows(common)}\n\nManagement Commands:\n${listRows(groups.map((g) => [g, GROUPS[g]]))}\n\n` +
    `Commands:\n${listRows(others)}\n\nGlobal Options:\n${optionRows({ ...ROOT_OPTIONS, ...PERSISTENT_OPTIONS })}\n\n` +
    `Run 'skiff COMMAND --help' for more information on a command.\n`
  );
}

/** Run the command line `argv` (after `skiff`): find the command, parse its arguments, run it, print its output. */
export async function runRegistered(
  argv: readonly string[],
  cmds: readonly (IndexEntry | Command)[] = COMMANDS,
  groupOptions: Readonly<Record<string, OptionTable>> = GROUP_OPTIONS,
): Promise<void> {
  if (argv[0] === '__complete') {
    // the completion scripts' question (complete.ts): the candidates for the last word
    process.stdout.write(await (await import('./complete.js')).completionOutput(argv.slice(1), await descriptorsOf(cmds), groupOptions));
    return;
  }
  const found = findCommand(argv, namedOf(cmds), groupOptions);
  const root = found.root as { root?: string; runroot?: string; config?: string; version?: boolean };
  if (root.config !== undefined) process.env.DOCKER_CONFIG = root.config;
  if (!found.command) {
    if (root.version && !found.group) process.stdout.write(`skiff version ${skiffVersion()}\n`);
    else process.stdout.write(found.group ? groupHelp(found.group, await descriptorsOf(cmds), groupOptions[found.group]) : topHelp(await descriptorsOf(cmds)));
    return;
  }
  const c = await found.command.load();
  if (found.help) {
    process.stdout.write(helpOf(c, found.invokedAs));
    return;
  }
  const parsed = parseCommand(found.rest, c, found.invokedAs);
  if (parsed === 'help') {
    process.stdout.write(helpOf(c, found.invokedAs));
    return;
  }
  configure({ root: (parsed.options.root as string | undefined) ?? root.root, runroot: (parsed.options.runroot as string | undefined) ?? root.runroot });
  if (c.netns && process.getuid!() !== 0 && !process.env._SKIFF_IN_USERNS && (await c.netns(parsed.options as never, parsed.args as never, withDefaults(groupOptions[c.group] ?? {}, found.groupValues)))) {
    (await import('../network/rootless-netns.js')).reexecInNetns([...argv]);
  }
  if (c.userns) {
    const { inUserns, reexecInUserns, runInUserns } = await import('../userns/enter.js');
    if (process.getuid!() !== 0 && !inUserns()) {
      const fds = (await c.usernsFds?.(parsed, withDefaults(groupOptions[c.group] ?? {}, found.groupValues))) ?? [];
      if (fds.length) {
        process.exitCode = await runInUserns([...argv], fds);
        return;
      }
      reexecInUserns([...argv]);
    }
  }
  const ctx: CommandContext = {
    // on first use: node makes each of process.stdin/stdout/stderr (a stream for its descriptor, ~1-2
    // ms each) when it is first read, and a `run` that becomes the shim uses none of them
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    invokedAs: found.invokedAs,
    argv,
    group: withDefaults(groupOptions[c.group] ?? {}, found.groupValues),
    beforeExecve: saveCodeCache,
  };
  mark('loaded');
  const code = await printOutput(await c.run(parsed, ctx));
  if (code) process.exitCode = code;
}
