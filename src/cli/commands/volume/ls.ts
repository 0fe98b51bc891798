/** `volume ls`: Docker's columns, --filter, --format. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'volume',
  name: 'ls',
  aliases: ['volume list'],
  describe: 'List volumes',
  positionals: [],
  options: {
    quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Only display volume names' },
    filter: { alias: 'f', type: 'string', repeat: true, describe: 'Provide filter values (name=, label=, dangling=, driver=)' },
    format: { type: 'string', describe: 'Format output using a Go template' },
  },
  handler: async (o) => {
    const [{ filterVolumes }, { formatOutput }] = await Promise.all([import('../../../volume/volumes.js'), import('../../output/table.js')]);
    const rows = filterVolumes(o.filter).map((v) => ({
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
    return formatOutput(rows, {
      format: o.format,
      quiet: o.quiet ? (r) => r.Name : undefined,
      defaultTable: [
        { header: 'DRIVER', field: (r) => r.Driver },
        { header: 'VOLUME NAME', field: (r) => r.Name },
      ],
      headerNames: { Name: 'VOLUME NAME' },
    });
  },
});
