/** `network rm`: remove networks no container uses (-f: a missing one is no error). */
import { SkiffError } from '../../../errors.js';
import type { ItemReport } from '../../command.js';
import { defineCommand } from '../../command.js';
import { sweepNetworks } from '../../network-sweep.js';

export default defineCommand({
  group: 'network',
  name: 'rm',
  aliases: ['network remove'],
  describe: 'Remove one or more networks',
  positionals: [{ name: 'network', required: true, variadic: true }],
  options: {
    force: { alias: 'f', type: 'boolean', default: false, describe: 'Do not error if the network does not exist' },
  },
  handler: async (o, { network }) => {
    const { removeNetwork } = await import('../../../network/manage.js');
    await sweepNetworks();
    async function* each(): AsyncGenerator<ItemReport> {
      for (const ref of network) {
        try {
          yield { item: ref, out: await removeNetwork(ref) };
        } catch (error) {
          if (o.force && error instanceof SkiffError && error.code === 'ENONETWORK') continue;
          yield { item: ref, error };
        }
      }
    }
    return { items: each() };
  },
});
