/** `images` / `image ls`: Docker's columns, --digests, --filter, --format (or the client config's imagesFormat). */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'image',
  name: 'ls',
  aliases: ['image list', 'images'],
  describe: 'List images',
  positionals: [{ name: 'reference' }],
  options: {
    all: { alias: 'a', type: 'boolean', default: false, describe: 'Show all images' },
    quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Only show image IDs' },
    'no-trunc': { type: 'boolean', default: false, describe: "Don't truncate output" },
    digests: { type: 'boolean', default: false, describe: 'Show digests' },
    filter: { alias: 'f', type: 'string', repeat: true, describe: 'Filter output: dangling=, reference=, before=, since=, label=, until=' },
    format: { type: 'string', describe: 'Format output using a Go template' },
    noheading: { type: 'boolean', default: false, describe: 'Do not print column headings (Podman)' },
    sort: { type: 'string', describe: 'Sort by created, id, repository, size or tag (Podman)' },
  },
  handler: async (o, { reference }) => {
    const [{ listImageRows }, { formatOutput, sizeValue, sortRows }, { goTimeMs }] = await Promise.all([import('../../../image/manage.js'), import('../../output/table.js'), import('../../../lib/units.js')]);
    const rows = sortRows(await listImageRows({ all: o.all, noTrunc: o['no-trunc'], digests: o.digests, filterRef: reference, filters: o.filter }), o.sort, {
      created: (r) => -goTimeMs(r.CreatedAt),
      id: (r) => r.ID,
      repository: (r) => r.Repository,
      size: (r) => sizeValue(r.Size),
      tag: (r) => r.Tag,
    });
    // imagesFormat of the client config applies when neither --format nor --quiet is given (Docker)
    const format = o.format ?? (o.quiet ? undefined : (await import('../../client-config.js')).clientConfig().imagesFormat);
    const quietRows = o.quiet ? rows.filter((r, i) => rows.findIndex((x) => x.ID === r.ID) === i) : rows;
    return formatOutput(quietRows, {
      format,
      quiet: o.quiet ? (r) => r.ID : undefined,
      defaultTable: [
        { header: 'REPOSITORY', field: (r) => r.Repository },
        { header: 'TAG', field: (r) => r.Tag },
        ...(o.digests ? [{ header: 'DIGEST', field: (r: (typeof rows)[number]) => r.Digest }] : []),
        { header: 'IMAGE ID', field: (r) => r.ID },
        { header: 'CREATED', field: (r) => r.CreatedSince },
        { header: 'SIZE', field: (r) => r.Size },
      ],
      headerNames: { ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT' },
      noHeading: o.noheading,
    });
  },
});
