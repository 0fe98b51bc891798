/** `container prune`: remove every stopped container (asks first on a terminal, unless -f). */
import { pruneContainers } from '../../../container/lifecycle.js';
import { defineCommand } from '../../command.js';
import { confirm } from '../../confirm.js';
import { humanSize } from '../../../lib/units.js';

export default defineCommand({
  group: 'container',
  name: 'prune',
  describe: 'Remove all stopped containers',
  positionals: [],
  options: {
    force: { alias: 'f', type: 'boolean', default: false, describe: 'Do not prompt for confirmation' },
    filter: { type: 'string', repeat: true, describe: 'Provide filter values (until=<timestamp or duration>, label=<key>[=<value>])' },
  },
  userns: true,
  handler: async (o, _args, ctx) => {
    if (!o.force && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] '))) return;
    const r = await pruneContainers(o.filter);
    return `${r.deleted.length ? `Deleted Containers:\n${r.deleted.map((d) => `${d}\n`).join('')}\n` : ''}Total reclaimed space: ${humanSize(r.reclaimed)}\n`;
  },
});
