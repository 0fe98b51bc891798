/** `builder prune`: the build cache alone (entries no image uses; -a every entry and the cache mounts). */
import { SkiffError } from '../../../errors.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'builder',
  name: 'prune',
  aliases: ['buildx prune'],
  describe: 'Remove build cache',
  positionals: [],
  options: {
    all: { alias: 'a', type: 'boolean', default: false, describe: 'Remove all unused build cache, not just dangling ones' },
    force: { alias: 'f', type: 'boolean', default: false, describe: 'Do not prompt for confirmation' },
    filter: { type: 'string', repeat: true, describe: "Provide filter values (e.g. 'until=24h')" },
  },
  userns: true,
  handler: async (o) => {
    const { parseImageFilters } = await import('../../../image/filters.js');
    const f = parseImageFilters(o.filter, ['until']);
    if (!o.force) {
      const { askConfirmation } = await import('../../confirm.js');
      const warning = o.all ? 'WARNING! This will remove all build cache.' : 'WARNING! This will remove all dangling build cache.';
      if (!(await askConfirmation(warning))) throw new SkiffError('ECANCELLED', 'builder prune has been cancelled', 1);
    }
    const [{ pruneBuildCache }, { humanSize }] = await Promise.all([import('../../../builder/usage.js'), import('../../../lib/units.js')]);
    const r = await pruneBuildCache(o.all, f.until !== undefined ? { until: f.until } : {});
    return `${r.deleted.length ? `Deleted build cache objects:\n${r.deleted.map((d) => `${d}\n`).join('')}\n` : ''}Total reclaimed space: ${humanSize(r.reclaimed)}\n`;
  },
});
