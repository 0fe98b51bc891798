/** `pause`: the container's cgroup freezer. */
import { eachContainer } from '../../batch.js';
import { defineCommand } from '../../command.js';
import { allOption, latestOption, targets } from '../../targets.js';

export default defineCommand({
  group: 'container',
  name: 'pause',
  aliases: ['pause'],
  describe: 'Pause all processes within one or more containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: [{ name: 'container', variadic: true }],
  options: {
    all: allOption('Pause all running containers'),
    latest: latestOption(),
  },
  handler: async (o, { container }, ctx) => {
    const refs = await targets(o, container, ctx.invokedAs, ['running']);
    const { pauseContainer } = await import('../../../container/lifecycle.js');
    return { items: eachContainer(refs, pauseContainer) };
  },
});
