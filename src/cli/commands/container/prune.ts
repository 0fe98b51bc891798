/** `container prune`: remove every stopped container (prompt on a terminal unless -f). */
import { confirmed } from '../../confirm.js';
import { defineCommand } from '../../command.js';

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
  netns: async () => (await import('../../../network/rootless-netns.js')).netnsRunning(),
  handler: async (o) => {
    if (!(await confirmed(o.force, 'WARNING! This will remove all stopped containers.'))) return;
    const [{ pruneContainers }, { humanSize }] = await Promise.all([import('../../../container/lifecycle.js'), import('../../../lib/units.js')]);
    const r = await pruneContainers(o.filter);
    return `${r.deleted.length ? `Deleted Containers:\n${r.deleted.map((d) => `${d}\n`).join('')}\n` : ''}Total reclaimed space: ${humanSize(r.reclaimed)}\n`;
  },
});
