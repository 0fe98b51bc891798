/** `wait`: block until each container stops; print its exit code. */
import { eachItem } from '../../batch.js';
import { defineCommand } from '../../command.js';
import { latestOption, targets } from '../../targets.js';

export default defineCommand({
  group: 'container',
  name: 'wait',
  aliases: ['wait'],
  describe: 'Block until one or more containers stop, then print their exit codes',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: [{ name: 'container', variadic: true }],
  options: { latest: latestOption() },
  handler: async (o, { container }, ctx) => {
    const refs = await targets(o, container, ctx.invokedAs);
    const [{ waitContainer }, { findContainer }] = await Promise.all([import('../../../container/lifecycle.js'), import('../../../store/containers.js')]);
    return { items: eachItem(refs, async (ref) => String(await waitContainer(findContainer(ref)))) };
  },
});
