/** `system prune`: Docker's warning and [y/N] on stdin unless -f, then each domain's prune; Docker's report. */
import { SkiffError } from '../../../errors.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'system',
  name: 'prune',
  describe: 'Remove unused data',
  positionals: [],
  options: {
    all: { alias: 'a', type: 'boolean', default: false, describe: 'Remove all unused images not just dangling ones' },
    force: { alias: 'f', type: 'boolean', default: false, describe: 'Do not prompt for confirmation' },
    volumes: { type: 'boolean', default: false, describe: 'Prune anonymous volumes' },
    filter: { type: 'string', repeat: true, describe: 'Provide filter values (until=<timestamp or duration>, label=<key>[=<value>])' },
  },
  userns: true,
  handler: async (o) => {
    if (!o.force) {
      const { askConfirmation } = await import('../../confirm.js');
      const warning = [
        'WARNING! This will remove:',
        '  - all stopped containers',
        '  - all networks not used by at least one container',
        ...(o.volumes ? ['  - all anonymous volumes not used by at least one container'] : []),
        o.all ? '  - all images without at least one container associated to them' : '  - all dangling images',
        o.all ? '  - all build cache' : '  - unused build cache',
        '',
      ].join('\n');
      if (!(await askConfirmation(warning))) throw new SkiffError('ECANCELLED', 'system prune has been cancelled', 1);
    }
    const [{ pruneSystem }, { humanSize }, { sweepNetworks }] = await Promise.all([
      import('../../../system/prune.js'), import('../../../lib/units.js'), import('../../network-sweep.js'),
    ]);
    const r = await pruneSystem({ all: o.all, volumes: o.volumes, filters: o.filter, beforeNetworks: sweepNetworks });
    const section = (title: string, items: string[], prefix = ''): string => (items.length ? `${title}:\n${items.map((i) => `${prefix}${i}\n`).join('')}\n` : '');
    return [
      section('Deleted Containers', r.containers), section('Deleted Networks', r.networks), section('Deleted Volumes', r.volumes),
      section('Deleted Images', r.images, 'deleted: '), section('Deleted build cache objects', r.buildCache),
      `Total reclaimed space: ${humanSize(r.reclaimed)}\n`,
    ].join('');
  },
});
