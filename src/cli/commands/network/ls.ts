/** `network ls`: Docker's columns, --filter, --format. */
import { defineCommand } from '../../command.js';
import { sweepNetworks } from '../../network-sweep.js';

export default defineCommand({
  group: 'network',
  name: 'ls',
  aliases: ['network list'],
  describe: 'List networks',
  positionals: [],
  options: {
    filter: { alias: 'f', type: 'string', repeat: true, describe: "Provide filter values (e.g. 'driver=bridge')" },
    format: { type: 'string', describe: 'Format output using a Go template' },
    quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Only display network IDs' },
    'no-trunc': { type: 'boolean', default: false, describe: 'Do not truncate the output' },
  },
  handler: async (o) => {
    const [{ allNetworks, filterNetworks }, { formatOutput }] = await Promise.all([import('../../../network/manage.js'), import('../../output/table.js')]);
    await sweepNetworks();
    const id = (x: string): string => (o['no-trunc'] ? x : x.slice(0, 12));
    const rows = filterNetworks(await allNetworks(), o.filter).map((n) => ({
      ID: id(n.Id), Name: n.Name, Driver: n.Driver, Scope: n.Scope, IPv6: 'false', Internal: String(n.Internal),
      Labels: Object.entries(n.Labels).map(([k, v]) => `${k}=${v}`).join(','),
      CreatedAt: new Date(n.Created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
    }));
    return formatOutput(rows, {
      format: o.format,
      quiet: o.quiet ? (r) => r.ID : undefined,
      defaultTable: [
        { header: 'NETWORK ID', field: (r) => r.ID },
        { header: 'NAME', field: (r) => r.Name },
        { header: 'DRIVER', field: (r) => r.Driver },
        { header: 'SCOPE', field: (r) => r.Scope },
      ],
      headerNames: { ID: 'NETWORK ID', CreatedAt: 'CREATED AT' },
    });
  },
});
