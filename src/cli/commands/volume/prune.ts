/** `volume prune`: remove anonymous (or, -a, all) volumes no container uses. */
import { confirmed } from '../../confirm.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'volume',
  name: 'prune',
  describe: 'Remove unused local volumes',
  positionals: [],
  options: {
    all: { alias: 'a', type: 'boolean', default: false, describe: 'Remove all unused volumes, not just anonymous ones' },
    force: { alias: 'f', type: 'boolean', default: false, describe: 'Do not prompt for confirmation' },
    filter: { type: 'string', repeat: true, describe: 'Provide filter values (label=<key>[=<value>], label!=, all=)' },
  },
  userns: true,
  handler: async (o) => {
    const warning = o.all
      ? 'WARNING! This will remove all local volumes not used by at least one container.'
      : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
    if (!(await confirmed(o.force, warning))) return;
    const [{ pruneVolumes }, { humanSize }] = await Promise.all([import('../../../volume/volumes.js'), import('../../../lib/units.js')]);
    const r = await pruneVolumes(o.all, o.filter);
    return `${r.deleted.length ? `Deleted Volumes:\n${r.deleted.map((d) => `${d}\n`).join('')}\n` : ''}Total reclaimed space: ${humanSize(r.reclaimed)}\n`;
  },
});
