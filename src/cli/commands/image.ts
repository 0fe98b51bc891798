/** Image commands: pull, push, images, rmi, tag, history, image inspect/prune, save, load. */
import type { CommandModule } from 'yargs';
import { canonical, parseReference, repoName } from '../../oci/reference.js';
/** The domain modules, evaluated only by the command that runs (start-up of every other command). */
const pullMod = () => import('../../image/pull.js');
const manage = () => import('../../image/manage.js');
import { humanSize } from '../../lib/units.js';
import { formatOutput } from '../output/table.js';
import { batch } from '../batch.js';
import { list } from './run-options.js';
import { PULL_OPTIONS } from './pull-options.js';

export const pull: CommandModule = {
  command: 'pull <image>',
  describe: 'Download an image from a registry',
  builder: (y) =>
    y.positional('image', { type: 'string', demandOption: true }).options(PULL_OPTIONS),
  handler: async (a) => {
    const o = { platform: a.platform as string | undefined, quiet: Boolean(a.quiet), tlsVerify: a['tls-verify'] as boolean };
    if (a['all-tags']) {
      const r = await (await pullMod()).pullAllTags(String(a.image), o);
      process.stdout.write(`${r.repository}\n`);
      return;
    }
    await (await pullMod()).pullImage(String(a.image), o);
    const ref = parseReference(String(a.image));
    process.stdout.write(`${ref.digest ? `${repoName(ref)}@${ref.digest}` : canonical(ref)}\n`);
  },
};

export const images: CommandModule = {
  command: 'images [reference]',
  describe: 'List images',
  builder: (y) =>
    y.positional('reference', { type: 'string' }).option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Show all images' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Only show image IDs' })
      .option('no-trunc', { type: 'boolean', default: false, describe: "Don't truncate output" })
      .option('digests', { type: 'boolean', default: false, describe: 'Show digests' })
      .option('filter', { alias: 'f', type: 'string', array: true, describe: 'Filter output: dangling=, reference=, before=, since=, label=, until=' })
      .option('format', { type: 'string', describe: 'Format output using a Go template' }),
  handler: async (a) => {
    const rows = await (await manage()).listImageRows({
      all: Boolean(a.all), noTrunc: Boolean(a['no-trunc']), digests: Boolean(a.digests), filterRef: a.reference as string | undefined,
      filters: list(a.filter),
    });
    const quietRows = a.quiet ? rows.filter((r, i) => rows.findIndex((x) => x.ID === r.ID) === i) : rows;
    process.stdout.write(
      formatOutput(quietRows, {
        format: a.format as string | undefined,
        quiet: a.quiet ? (r) => r.ID : undefined,
        defaultTable: [
          { header: 'REPOSITORY', field: (r) => r.Repository },
          { header: 'TAG', field: (r) => r.Tag },
          ...(a.digests ? [{ header: 'DIGEST', field: (r: (typeof rows)[number]) => r.Digest }] : []),
          { header: 'IMAGE ID', field: (r) => r.ID },
          { header: 'CREATED', field: (r) => r.CreatedSince },
          { header: 'SIZE', field: (r) => r.Size },
        ],
        headerNames: { ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT' },
      }),
    );
  },
};

export const rmi: CommandModule = {
  command: 'rmi <image..>',
  describe: 'Remove one or more images',
  builder: (y) => y.positional('image', { type: 'string', array: true }).option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Force removal of the image' }),
  handler: async (a) => {
    await batch(list(a.image), async (ref) => {
      const r = await (await manage()).removeImage(ref, Boolean(a.force));
      return [...r.untagged.map((u) => `Untagged: ${u}`), ...r.deleted.map((d) => `Deleted: ${d}`)].join('\n');
    });
  },
};

export const tag: CommandModule = {
  command: 'tag <source> <target>',
  describe: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  builder: (y) => y.positional('source', { type: 'string' }).positional('target', { type: 'string' }),
  handler: async (a) => {
    await (await manage()).tagImage(String(a.source), String(a.target));
  },
};

export const history: CommandModule = {
  command: 'history <image>',
  describe: 'Show the history of an image',
  builder: (y) =>
    y.positional('image', { type: 'string' }).option('no-trunc', { type: 'boolean', default: false, describe: "Don't truncate output" })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Only show image IDs' })
      .option('format', { type: 'string', describe: 'Format output using a Go template' })
      .option('human', { alias: 'H', type: 'boolean', default: true, describe: 'Print sizes and dates in human readable format' }),
  handler: async (a) => {
    const rows = await (await manage()).imageHistory(String(a.image), Boolean(a['no-trunc']));
    process.stdout.write(
      formatOutput(rows, {
        format: a.format as string | undefined,
        quiet: a.quiet ? (r) => r.ID : undefined,
        defaultTable: [
          { header: 'IMAGE', field: (r) => r.ID },
          { header: 'CREATED', field: (r) => r.CreatedSince },
          { header: 'CREATED BY', field: (r) => r.CreatedBy },
          { header: 'SIZE', field: (r) => r.Size },
          { header: 'COMMENT', field: (r) => r.Comment },
        ],
        headerNames: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedBy: 'CREATED BY' },
      }),
    );
  },
};

export const imagePrune: CommandModule = {
  command: 'prune',
  describe: 'Remove unused images',
  builder: (y) =>
    y.option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Remove all unused images, not just dangling ones' })
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Do not prompt for confirmation' })
      .option('filter', { type: 'string', array: true, describe: 'Provide filter values (until=<timestamp or duration>, label=<key>[=<value>])' }),
  handler: async (a) => {
    const r = await (await manage()).pruneImages(Boolean(a.all), list(a.filter));
    if (r.deleted.length) process.stdout.write(`Deleted Images:\n${r.deleted.map((d) => `deleted: ${d}\n`).join('')}\n`);
    process.stdout.write(`Total reclaimed space: ${humanSize(r.reclaimed)}\n`);
  },
};

export const imageCommands: CommandModule[] = [pull, images, rmi, tag, history];
