/** `network prune`: remove the networks no container uses. */
import { confirmed } from '../../confirm.js';
import { defineCommand } from '../../command.js';
import { sweepNetworks } from '../../network-sweep.js';

export default defineCommand({
  group: 'network',
  name: 'prune',
  describe: 'Remove all unused networks',
  positionals: [],
  options: {
    force: { alias: 'f', type: 'boolean', default: false, describe: 'Do not prompt for confirmation' },
    filter: { type: 'string', repeat: true, describe: "Provide filter values (e.g. 'until=<timestamp>')" },
  },
  handler: async (o) => {
    if (!(await confirmed(o.force, 'WARNING! This will remove all custom networks not used by at least one container.'))) return;
    await sweepNetworks();
    const gone = await (await import('../../../network/manage.js')).pruneNetworks(o.filter);
    if (gone.length) return `Deleted Networks:\n${gone.map((n) => `${n}\n`).join('')}`;
  },
});
