/** `unpause`: the container's cgroup freezer. */
import { eachContainer } from '../../batch.js';
import { defineCommand } from '../../command.js';
import { allOption, latestOption, targets } from '../../targets.js';

export default defineCommand({
  group: 'container',
  name: 'unpause',
  aliases: ['unpause'],
  describe: 'Unpause all processes within one or more containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: [{ name: 'container', variadic: true }],
  options: {
    all: allOption('Unpause all paused containers'),
    latest: latestOption(),
  },
  handler: async (o, { container }, ctx) => {
    const refs = await targets(o, container, ctx.invokedAs, ['paused']);
    const { unpauseContainer } = await import('../../../container/lifecycle.js');
    return { items: eachContainer(refs, unpauseContainer) };
  },
});
