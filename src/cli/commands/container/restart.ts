/** `restart`: stop (with the timeout), then start. */
import { eachContainer } from '../../batch.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'restart',
  aliases: ['restart'],
  describe: 'Restart one or more containers',
  positionals: [{ name: 'container', required: true, variadic: true }],
  options: {
    time: { alias: 't', type: 'int', describe: 'Seconds to wait before killing the container (default: its --stop-timeout, else 10)' },
  },
  netns: async (_o, { container }) => (await import('../../../network/rootless-netns.js')).onUserNetworks(container),
  handler: async (o, { container }) => {
    const { restartContainer } = await import('../../../container/lifecycle.js');
    return { items: eachContainer(container, (rec) => restartContainer(rec, o.time)) };
  },
});
