/** `restart`: stop (with the timeout), then start. */
import { eachContainer } from '../../batch.js';
import { defineCommand } from '../../command.js';
import { allOption, latestOption, targets } from '../../targets.js';

export default defineCommand({
  group: 'container',
  name: 'restart',
  aliases: ['restart'],
  describe: 'Restart one or more containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: [{ name: 'container', variadic: true }],
  options: {
    all: allOption('Restart all containers'),
    latest: latestOption(),
    time: { alias: ['t', 'timeout'], type: 'int', describe: 'Seconds to wait before killing the container (default: its --stop-timeout, else 10)' },
  },
  netns: async (o, { container }) => {
    const m = await import('../../../network/rootless-netns.js');
    return o.all || o.latest ? m.netnsRunning() : m.onUserNetworks(container);
  },
  handler: async (o, { container }, ctx) => {
    const refs = await targets(o, container, ctx.invokedAs);
    const { restartContainer } = await import('../../../container/lifecycle.js');
    return { items: eachContainer(refs, (rec) => restartContainer(rec, o.time)) };
  },
});
