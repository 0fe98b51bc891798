/** `image prune`: remove dangling (or, -a, all unused) images. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'image',
  name: 'prune',
  describe: 'Remove unused images',
  positionals: [],
  options: {
    all: { alias: 'a', type: 'boolean', default: false, describe: 'Remove all unused images, not just dangling ones' },
    force: { alias: 'f', type: 'boolean', default: false, describe: 'Do not prompt for confirmation' },
    filter: { type: 'string', repeat: true, describe: 'Provide filter values (until=<timestamp or duration>, label=<key>[=<value>])' },
  },
  userns: true,
  handler: async (o) => {
    const [{ pruneImages }, { humanSize }] = await Promise.all([import('../../../image/manage.js'), import('../../../lib/units.js')]);
    const r = await pruneImages(o.all, o.filter);
    return `${r.deleted.length ? `Deleted Images:\n${r.deleted.map((d) => `deleted: ${d}\n`).join('')}\n` : ''}Total reclaimed space: ${humanSize(r.reclaimed)}\n`;
  },
});
