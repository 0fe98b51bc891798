/** Lifecycle commands: pause, unpause, stats, top, wait, restart, rename, container prune. */
import { confirmed } from '../confirm.js';
import type { Argv, CommandModule } from 'yargs';
import {
  pauseContainer, pruneContainers, renameContainerTo, restartContainer, unpauseContainer, waitContainer,
} from '../../container/lifecycle.js';
import { topProcesses } from '../../container/procs.js';
import { sampleStats, type StatsSample } from '../../container/stats.js';
import { containerState } from '../../container/state.js';
import { SkiffError } from '../../errors.js';
import { findContainer, listContainers, type ContainerRecord } from '../../store/containers.js';
import { passthrough, registerPassthrough } from '../argv.js';
import { batch } from '../batch.js';
import { formatOutput, tabwrite } from '../output/table.js';
import { STATS_COLUMNS, STATS_HEADERS, statsRow, type StatsRow } from '../output/stats.js';
import { humanSize } from '../../lib/units.js';
import { list, toResourceOptions, UPDATE_OPTIONS, warnLine } from './run-options.js';
import { updateContainer } from '../../container/update.js';
import { eachContainer } from './container.js';


const containers = <T>(y: Argv<T>) => y.positional('container', { type: 'string', array: true });

export const pause: CommandModule = {
  command: 'pause <container..>',
  describe: 'Pause all processes within one or more containers',
  builder: (y) => containers(y),
  handler: async (a) => {
    await eachContainer(list(a.container), pauseContainer);
  },
};

export const unpause: CommandModule = {
  command: 'unpause <container..>',
  describe: 'Unpause all processes within one or more containers',
  builder: (y) => containers(y),
  handler: async (a) => {
    await eachContainer(list(a.container), unpauseContainer);
  },
};

export const wait: CommandModule = {
  command: 'wait <container..>',
  describe: 'Block until one or more containers stop, then print their exit codes',
  builder: (y) => containers(y),
  handler: async (a) => {
    await batch(list(a.container), async (ref) => String(await waitContainer(findContainer(ref))));
  },
};

export const restart: CommandModule = {
  command: 'restart <container..>',
  describe: 'Restart one or more containers',
  builder: (y) =>
    containers(y).option('time', { alias: 't', type: 'number', describe: "Seconds to wait before killing the container (default: its --stop-timeout, else 10)" }),
  handler: async (a) => {
    await eachContainer(list(a.container), (rec) => restartContainer(rec, a.time as number | undefined));
  },
};

export const rename: CommandModule = {
  command: 'rename <container> <new-name>',
  describe: 'Rename a container',
  builder: (y) => y.positional('container', { type: 'string', demandOption: true }).positional('new-name', { type: 'string', demandOption: true }),
  handler: async (a) => {
    await renameContainerTo(String(a.container), String(a['new-name']));
  },
};

registerPassthrough('top', ['root', 'runroot']);
export const top: CommandModule = {
  command: 'top <container>',
  describe: 'Display the running processes of a container',
  builder: (y) => y.usage('Usage: skiff top CONTAINER [ps OPTIONS]').positional('container', { type: 'string', demandOption: true }),
  handler: async (a) => {
    const rec = findContainer(String(a.container));
    const st = containerState(rec);
    if (!st.Running || !st.Pid) throw new SkiffError('ESTATE', `container ${rec.Id} is not running`, 1);
    const r = topProcesses(st.Pid, passthrough());
    const text = [r.Titles, ...r.Processes].map((row) => row.join('\t') + '\n').join('');
    process.stdout.write(tabwrite(text, { minwidth: 20, padding: 3 }));
  },
};

const STATS_INTERVAL_MS = 1000;

export const stats: CommandModule = {
  command: 'stats [container..]',
  describe: 'Display a live stream of container(s) resource usage statistics',
  builder: (y) =>
    y.positional('container', { type: 'string', array: true })
      .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Show all containers (default shows just running)' })
      .option('no-stream', { type: 'boolean', default: false, describe: 'Disable streaming stats and only pull the first result' })
      .option('no-trunc', { type: 'boolean', default: false, describe: "Don't truncate output" })
      .option('format', { type: 'string', describe: 'Format output using a Go template' }),
  handler: async (a) => {
    const refs = list(a.container);
    const pick = (): { rec: ContainerRecord; given?: string }[] => {
      if (refs.length) return refs.map((r) => ({ rec: findContainer(r), given: r }));
      return listContainers()
        .sort((x, y) => y.Created.localeCompare(x.Created))
        .filter((r) => a.all || containerState(r).Running)
        .map((rec) => ({ rec }));
    };
    const render = (rows: StatsRow[]): string =>
      formatOutput(rows, {
        format: a.format as string | undefined,
        defaultTable: STATS_COLUMNS.map((k) => ({ header: STATS_HEADERS[k]!, field: (r: StatsRow) => r[k] })),
        headerNames: STATS_HEADERS,
      });
    const noTrunc = Boolean(a['no-trunc']);
    let prev = new Map<string, StatsSample>();
    const sample = (): Map<string, { s: StatsSample; given?: string }> =>
      new Map(pick().map(({ rec, given }) => [rec.Id, { s: sampleStats(rec), ...(given !== undefined ? { given } : {}) }]));
    const rows = (cur: Map<string, { s: StatsSample; given?: string }>): StatsRow[] =>
      [...cur.values()].map(({ s, given }) => {
        const row = statsRow(prev.get(s.id), s, given);
        return noTrunc ? { ...row, ID: s.id, ...(given === undefined ? { Container: s.id } : {}) } : row;
      });
    let cur = sample();
    prev = new Map([...cur].map(([k, v]) => [k, v.s]));
    await new Promise((r) => setTimeout(r, a['no-stream'] ? STATS_INTERVAL_MS / 2 : 0));
    const tty = process.stdout.isTTY;
    for (;;) {
      cur = sample();
      const out = render(rows(cur));
      process.stdout.write(tty && !a['no-stream'] ? `\x1b[2J\x1b[H${out}` : out);
      if (a['no-stream']) return;
      prev = new Map([...cur].map(([k, v]) => [k, v.s]));
      await new Promise((r) => setTimeout(r, STATS_INTERVAL_MS));
    }
  },
};

export const containerPrune: CommandModule = {
  command: 'prune',
  describe: 'Remove all stopped containers',
  builder: (y) =>
    y.option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Do not prompt for confirmation' })
      .option('filter', { type: 'string', array: true, describe: 'Provide filter values (until=<timestamp or duration>, label=<key>[=<value>])' }),
  handler: async (a) => {
    if (!(await confirmed(Boolean(a.force), 'WARNING! This will remove all stopped containers.'))) return;
    const r = await pruneContainers(list(a.filter));
    if (r.deleted.length) process.stdout.write(`Deleted Containers:\n${r.deleted.map((d) => `${d}\n`).join('')}\n`);
    process.stdout.write(`Total reclaimed space: ${humanSize(r.reclaimed)}\n`);
  },
};

export const update: CommandModule = {
  command: 'update <container..>',
  describe: 'Update configuration (cgroup limits, restart policy) of one or more containers',
  builder: (y) => containers(y).options(UPDATE_OPTIONS),
  handler: async (a) => {
    const o = { ...toResourceOptions(a), restart: a.restart as string | undefined };
    await batch(list(a.container), async (ref) => {
      await updateContainer(findContainer(ref), o, warnLine);
      return ref;
    });
  },
};

export const lifecycleCommands: CommandModule[] = [pause, unpause, stats, top, wait, restart, rename, update];
