/** `ps` / `container ls`: Docker's columns, --format (or the client config's psFormat), --filter. (Plain listings come here only when config.json has a psFormat: otherwise bin/skiff sends them to skiff-shim ps.) */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'ls',
  aliases: ['container list', 'container ps', 'ps'],
  describe: 'List containers',
  positionals: [],
  options: {
    all: { alias: 'a', type: 'boolean', default: false, describe: 'Show all containers (default shows just running)' },
    quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Only display container IDs' },
    'no-trunc': { type: 'boolean', default: false, describe: "Don't truncate output" },
    last: { alias: 'n', type: 'int', describe: 'Show n last created containers (includes all states)' },
    latest: { alias: 'l', type: 'boolean', default: false, describe: 'Show the latest created container' },
    filter: { alias: 'f', type: 'string', repeat: true, describe: 'Filter output based on conditions provided' },
    format: { type: 'string', describe: 'Format output using a Go template' },
    noheading: { type: 'boolean', default: false, describe: 'Do not print column headings (Podman)' },
    sort: { type: 'string', describe: 'Sort by command, created, id, image, names, runningfor, size or status (Podman)' },
    size: { alias: 's', type: 'boolean', default: false, describe: 'Display total file sizes' },
  },
  handler: async (o) => {
    // psFormat of the client config applies when --format is not given (quiet still prints IDs, as Docker)
    const format = o.format ?? (o.quiet ? undefined : (await import('../../client-config.js')).clientConfig().psFormat);
    const [{ listContainerRows }, { formatOutput, sizeValue, sortRows }, { goTimeMs }] = await Promise.all([import('../../../container/list.js'), import('../../output/table.js'), import('../../../lib/units.js')]);
    const size = o.size || o.sort === 'size' || /\.Size/.test(o.format ?? '');
    // rows come newest first: `created` and `runningfor` keep that order
    const rows = sortRows(await listContainerRows({ all: o.all, last: o.latest ? 1 : o.last, filters: o.filter, noTrunc: o['no-trunc'], size }), o.sort, {
      command: (r) => r.Command,
      created: (r) => -goTimeMs(r.CreatedAt),
      id: (r) => r.ID,
      image: (r) => r.Image,
      names: (r) => r.Names,
      runningfor: (r) => -goTimeMs(r.CreatedAt),
      size: (r) => sizeValue(r.Size.split(' ')[0]!),
      status: (r) => r.Status,
    });
    return formatOutput(rows, {
      format,
      quiet: o.quiet ? (r) => r.ID : undefined,
      defaultTable: [
        { header: 'CONTAINER ID', field: (r) => r.ID },
        { header: 'IMAGE', field: (r) => r.Image },
        { header: 'COMMAND', field: (r) => r.Command },
        { header: 'CREATED', field: (r) => r.RunningFor },
        { header: 'STATUS', field: (r) => r.Status },
        { header: 'PORTS', field: (r) => r.Ports },
        { header: 'NAMES', field: (r) => r.Names },
        ...(o.size ? [{ header: 'SIZE', field: (r: (typeof rows)[number]) => r.Size }] : []),
      ],
      headerNames: { ID: 'CONTAINER ID', RunningFor: 'CREATED', CreatedAt: 'CREATED AT' },
      noHeading: o.noheading,
    });
  },
});
