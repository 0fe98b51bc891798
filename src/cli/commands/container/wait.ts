/** `wait`: block until each container stops; print its exit code. */
import { eachItem } from '../../batch.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'wait',
  aliases: ['wait'],
  describe: 'Block until one or more containers stop, then print their exit codes',
  positionals: [{ name: 'container', required: true, variadic: true }],
  options: {},
  handler: async (_o, { container }) => {
    const [{ waitContainer }, { findContainer }] = await Promise.all([import('../../../container/lifecycle.js'), import('../../../store/containers.js')]);
    return { items: eachItem(container, async (ref) => String(await waitContainer(findContainer(ref)))) };
  },
});
