/** `volume create|ls|inspect|rm|prune|exists`: thin over src/volume/. */
import type { CommandModule } from 'yargs';
import { describeError } from '../../errors.js';
import { humanSize } from '../../lib/units.js';
import { batch } from '../batch.js';
import { confirmed } from '../confirm.js';
import { formatOutput } from '../output/table.js';
import { writeInspected } from './inspect.js';
import { list } from './run-options.js';

// value options without `array`: yargs' arrays are greedy (`-o a=1 NAME` would take NAME); repeats still make a list

/** The volume module, evaluated only by these commands. */
const volumes = () => import('../../volume/volumes.js');

const create: CommandModule = {
  command: 'create [name]',
  describe: 'Create a volume',
  builder: (y) =>
    y.positional('name', { type: 'string' })
      .option('driver', { alias: 'd', type: 'string', default: 'local', describe: 'Specify volume driver name' })
      .option('label', { alias: 'l', type: 'string', describe: 'Set metadata for a volume' })
      .option('opt', { alias: 'o', type: 'string', describe: 'Set driver specific options (type=tmpfs|none, o=, device=, size=)' }),
  handler: async (a) => {
    const v = await volumes();
    const { parseLabels } = await import('../../container/options.js');
    const r = await v.createVolume(a.name === undefined ? undefined : String(a.name), {
      driver: String(a.driver), labels: parseLabels(list(a.label)), options: v.parseVolumeOptions(list(a.opt)),
    });
    process.stdout.write(`${r.name}\n`);
  },
};

const ls: CommandModule = {
  command: 'ls',
  aliases: ['list'],
  describe: 'List volumes',
  builder: (y) =>
    y.option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Only display volume names' })
      .option('filter', { alias: 'f', type: 'string', describe: 'Provide filter values (name=, label=, dangling=, driver=)' })
      .option('format', { type: 'string', describe: 'Format output using a Go template' }),
  handler: async (a) => {
    const rows = (await volumes()).filterVolumes(list(a.filter)).map((v) => ({
      ...v,
      // as Docker's volume formatter: labels as one "k=v,..." string, and .Label "k" for one of them
      Labels: Object.entries(v.Labels ?? {}).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, val]) => `${k}=${val}`).join(','),
      Label: (k: unknown) => (v.Labels ?? {})[String(k)] ?? '',
      Links: 'N/A',
      Size: 'N/A',
      Availability: 'N/A',
      Group: 'N/A',
      Status: 'N/A',
    }));
    process.stdout.write(
      formatOutput(rows, {
        format: a.format as string | undefined,
        quiet: a.quiet ? (r) => r.Name : undefined,
        defaultTable: [
          { header: 'DRIVER', field: (r) => r.Driver },
          { header: 'VOLUME NAME', field: (r) => r.Name },
        ],
        headerNames: { Name: 'VOLUME NAME' },
      }),
    );
  },
};

const inspect: CommandModule = {
  command: 'inspect <volume..>',
  describe: 'Display detailed information on one or more volumes',
  builder: (y) => y.positional('volume', { type: 'string', array: true }).option('format', { alias: 'f', type: 'string', describe: 'Format output using a Go template' }),
  handler: async (a) => {
    const v = await volumes();
    const results: unknown[] = [];
    let failed = false;
    for (const name of list(a.volume)) {
      try {
        results.push(v.findVolume(name));
      } catch (e) {
        failed = true;
        process.stderr.write(`Error: ${describeError(e)}\n`);
      }
    }
    writeInspected(results, a.format as string | undefined, failed);
  },
};

const rm: CommandModule = {
  command: 'rm <volume..>',
  aliases: ['remove'],
  describe: 'Remove one or more volumes',
  builder: (y) =>
    y.positional('volume', { type: 'string', array: true })
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Force the removal of one or more volumes' }),
  handler: async (a) => {
    const v = await volumes();
    const { containerState } = await import('../../container/state.js');
    await batch(list(a.volume), async (name) => {
      await v.removeVolume(name, Boolean(a.force), (c) => containerState(c).Running);
      return name;
    });
  },
};

const prune: CommandModule = {
  command: 'prune',
  describe: 'Remove unused local volumes',
  builder: (y) =>
    y.option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Remove all unused volumes, not just anonymous ones' })
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Do not prompt for confirmation' })
      .option('filter', { type: 'string', describe: 'Provide filter values (label=<key>[=<value>], label!=, all=)' }),
  handler: async (a) => {
    const warning = a.all
      ? 'WARNING! This will remove all local volumes not used by at least one container.'
      : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
    if (!(await confirmed(Boolean(a.force), warning))) return;
    const r = await (await volumes()).pruneVolumes(Boolean(a.all), list(a.filter));
    if (r.deleted.length) process.stdout.write(`Deleted Volumes:\n${r.deleted.map((d) => `${d}\n`).join('')}\n`);
    process.stdout.write(`Total reclaimed space: ${humanSize(r.reclaimed)}\n`);
  },
};

/** Podman's `volume exists`: exit 0 if it does, 1 if not, nothing printed. */
const exists: CommandModule = {
  command: 'exists <volume>',
  describe: 'Check if a volume exists',
  builder: (y) => y.positional('volume', { type: 'string' }),
  handler: async (a) => {
    if (!(await volumes()).volumeExists(String(a.volume))) process.exitCode = 1;
  },
};

export const volumeGroup: CommandModule = {
  command: 'volume <command>',
  describe: 'Manage volumes',
  builder: (y) => y.command([create, ls, inspect, rm, prune, exists]).demandCommand(1),
  handler: () => undefined,
};
