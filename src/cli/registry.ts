/**
 * The command registry: every command is a descriptor (command.ts, `defineCommand`), one file per verb
 * under `commands/<group>/<verb>.ts`, listed in REGISTERED. `runRegistered` is the one dispatch: the
 * command word is found by parse.ts (findCommand), the arguments read with pflag's rules (parseCommand),
 * the rootless re-exec decided by the descriptor's `userns`, the handler run and its output printed
 * (print.ts); the help of skiff, of a group and of a command comes from the descriptors.
 * Add a command: write its file and add one import and one entry here (sorted by group, then verb).
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
import builderPrune from './commands/builder/prune.js';
import composeAttach from './commands/compose/attach.js';
import composeBuild from './commands/compose/build.js';
import composeConfig from './commands/compose/config.js';
import composeCp from './commands/compose/cp.js';
import composeCreate from './commands/compose/create.js';
import composeDown from './commands/compose/down.js';
import composeEvents from './commands/compose/events.js';
import composeExec from './commands/compose/exec.js';
import composeImages from './commands/compose/images.js';
import composeKill from './commands/compose/kill.js';
import composeLogs from './commands/compose/logs.js';
import composeLs from './commands/compose/ls.js';
import composePause from './commands/compose/pause.js';
import composePort from './commands/compose/port.js';
import composePs from './commands/compose/ps.js';
import composePull from './commands/compose/pull.js';
import composePush from './commands/compose/push.js';
import composeRestart from './commands/compose/restart.js';
import composeRm from './commands/compose/rm.js';
import composeRun from './commands/compose/run.js';
import composeStart from './commands/compose/start.js';
import composeStop from './commands/compose/stop.js';
import composeTop from './commands/compose/top.js';
import composeUnpause from './commands/compose/unpause.js';
import composeUp from './commands/compose/up.js';
import composeVersion from './commands/compose/version.js';
import composeWait from './commands/compose/wait.js';
import composeWatch from './commands/compose/watch.js';
import containerAttach from './commands/container/attach.js';
import containerCommit from './commands/container/commit.js';
import containerCp from './commands/container/cp.js';
import containerCreate from './commands/container/create.js';
import containerDiff from './commands/container/diff.js';
import containerExec from './commands/container/exec.js';
import containerExport from './commands/container/export.js';
import containerExists from './commands/container/exists.js';
import containerInspect from './commands/container/inspect.js';
import containerKill from './commands/container/kill.js';
import containerLogs from './commands/container/logs.js';
import containerLs from './commands/container/ls.js';
import containerPause from './commands/container/pause.js';
import containerPort from './commands/container/port.js';
import containerPrune from './commands/container/prune.js';
import containerRename from './commands/container/rename.js';
import containerRestart from './commands/container/restart.js';
import containerRm from './commands/container/rm.js';
import containerRun from './commands/container/run.js';
import containerStart from './commands/container/start.js';
import containerStats from './commands/container/stats.js';
import containerStop from './commands/container/stop.js';
import containerTop from './commands/container/top.js';
import containerUnpause from './commands/container/unpause.js';
import containerUpdate from './commands/container/update.js';
import containerWait from './commands/container/wait.js';
import generateSystemd from './commands/generate/systemd.js';
import imageBuild from './commands/image/build.js';
import imageExists from './commands/image/exists.js';
import imageHistory from './commands/image/history.js';
import imageImport from './commands/image/import.js';
import imageInspect from './commands/image/inspect.js';
import imageLoad from './commands/image/load.js';
import imageLs from './commands/image/ls.js';
import imagePrune from './commands/image/prune.js';
import imagePull from './commands/image/pull.js';
import imagePush from './commands/image/push.js';
import imageRm from './commands/image/rm.js';
import imageSave from './commands/image/save.js';
import imageTag from './commands/image/tag.js';
import imageUntag from './commands/image/untag.js';
import kubeDown from './commands/kube/down.js';
import kubeGenerate from './commands/kube/generate.js';
import kubePlay from './commands/kube/play.js';
import networkConnect from './commands/network/connect.js';
import networkCreate from './commands/network/create.js';
import networkDisconnect from './commands/network/disconnect.js';
import networkInspect from './commands/network/inspect.js';
import networkLs from './commands/network/ls.js';
import networkPrune from './commands/network/prune.js';
import networkRm from './commands/network/rm.js';
import systemAutostart from './commands/system/autostart.js';
import systemDf from './commands/system/df.js';
import systemEvents from './commands/system/events.js';
import systemInfo from './commands/system/info.js';
import systemPrune from './commands/system/prune.js';
import systemReset from './commands/system/reset.js';
import systemService from './commands/system/service.js';
import topCompletion from './commands/top/completion.js';
import topInspect from './commands/top/inspect.js';
import topLogin from './commands/top/login.js';
import topLogout from './commands/top/logout.js';
import topVersion from './commands/top/version.js';
import volumeCreate from './commands/volume/create.js';
import volumeExists from './commands/volume/exists.js';
import volumeInspect from './commands/volume/inspect.js';
import volumeLs from './commands/volume/ls.js';
import volumePrune from './commands/volume/prune.js';
import volumeRm from './commands/volume/rm.js';

/** Every command: one import and one entry each, sorted by group then verb. */
export const REGISTERED: readonly Command[] = [
  builderPrune,
  composeAttach,
  composeBuild,
  composeConfig,
  composeCp,
  composeCreate,
  composeDown,
  composeEvents,
  composeExec,
  composeImages,
  composeKill,
  composeLogs,
  composeLs,
  composePause,
  composePort,
  composePs,
  composePull,
  composePush,
  composeRestart,
  composeRm,
  composeRun,
  composeStart,
  composeStop,
  composeTop,
  composeUnpause,
  composeUp,
  composeVersion,
  composeWait,
  composeWatch,
  containerAttach,
  containerCommit,
  containerCp,
  containerCreate,
  containerDiff,
  containerExec,
  containerExists,
  containerExport,
  containerInspect,
  containerKill,
  containerLogs,
  containerLs,
  containerPause,
  containerPort,
  containerPrune,
  containerRename,
  containerRestart,
  containerRm,
  containerRun,
  containerStart,
  containerStats,
  containerStop,
  containerTop,
  containerUnpause,
  containerUpdate,
  containerWait,
  generateSystemd,
  imageBuild,
  imageExists,
  imageHistory,
  imageImport,
  imageInspect,
  imageLoad,
  imageLs,
  imagePrune,
  imagePull,
  imagePush,
  imageRm,
  imageSave,
  imageTag,
  imageUntag,
  kubeDown,
  kubeGenerate,
  kubePlay,
  networkConnect,
  networkCreate,
  networkDisconnect,
  networkInspect,
  networkLs,
  networkPrune,
  networkRm,
  systemAutostart,
  systemDf,
  systemEvents,
  systemInfo,
  systemPrune,
  systemReset,
  systemService,
  topCompletion,
  topInspect,
  topLogin,
  topLogout,
  topVersion,
  volumeCreate,
  volumeExists,
  volumeInspect,
  volumeLs,
  volumePrune,
  volumeRm,
];

/**
 * Groups with options of their own, given between the group and its verb (`skiff compose -f a.yaml
 * -p demo up -d`, as `docker compose`); the handler reads them from `ctx.group`.
 */
export const GROUP_OPTIONS: Readonly<Record<string, OptionTable>> = { compose: COMPOSE_OPTIONS };

const namedOf = (cmds: readonly Command[]) => cmds.map((c) => ({ group: c.group as string, name: c.name, aliases: c.aliases ?? [], c }));

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
export function groupHelp(group: string, cmds: readonly Command[] = REGISTERED, own: OptionTable | undefined = GROUP_OPTIONS[group]): string {
  const verbs = verbsOf(group, cmds).sort(([a], [b]) => (a < b ? -1 : 1));
  const opts = own ? `\nOptions:\n${optionRows(own)}\n` : '';
  return `\nUsage:  skiff ${group} ${own ? '[OPTIONS] ' : ''}COMMAND\n\n${GROUPS[group as Group] ?? ''}\n${opts}\nCommands:\n${listRows(verbs.map(([v, c]) => [v, c.describe]))}\n\nRun 'skiff ${group} COMMAND --help' for more information on a command.\n`;
}

/** Docker's most used commands, listed first in `skiff --help` (those skiff has). */
const COMMON = ['run', 'exec', 'ps', 'build', 'pull', 'push', 'images', 'login', 'logout', 'search', 'version', 'info'];

/** `skiff --help`: common commands, management commands (groups), the other commands, global options. */
export function topHelp(cmds: readonly Command[] = REGISTERED): string {
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
  cmds: readonly Command[] = REGISTERED,
  groupOptions: Readonly<Record<string, OptionTable>> = GROUP_OPTIONS,
): Promise<void> {
  if (argv[0] === '__complete') {
    // the completion scripts' question (complete.ts): the candidates for the last word
    process.stdout.write(await (await import('./complete.js')).completionOutput(argv.slice(1), cmds, groupOptions));
    return;
  }
  const found = findCommand(argv, namedOf(cmds), groupOptions);
  const root = found.root as { root?: string; runroot?: string; config?: string; version?: boolean };
  if (root.config !== undefined) process.env.DOCKER_CONFIG = root.config;
  if (!found.command) {
    if (root.version && !found.group) process.stdout.write(`skiff version ${skiffVersion()}\n`);
    else process.stdout.write(found.group ? groupHelp(found.group, cmds, groupOptions[found.group]) : topHelp(cmds));
    return;
  }
  const c = found.command.c;
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
