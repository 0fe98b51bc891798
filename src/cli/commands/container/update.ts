/** `update`: a container's cgroup limits and restart policy. */
import { eachItem } from '../../batch.js';
import { defineCommand } from '../../command.js';
import { toResourceOptions, UPDATE_OPTIONS, warnLine } from '../run-options.js';

export default defineCommand({
  group: 'container',
  name: 'update',
  aliases: ['update'],
  describe: 'Update configuration (cgroup limits, restart policy) of one or more containers',
  positionals: [{ name: 'container', required: true, variadic: true }],
  options: UPDATE_OPTIONS,
  handler: async (o, { container }) => {
    const [{ updateContainer }, { findContainer }] = await Promise.all([import('../../../container/update.js'), import('../../../store/containers.js')]);
    const u = { ...toResourceOptions(o), restart: o.restart };
    return {
      items: eachItem(container, async (ref) => {
        await updateContainer(findContainer(ref), u, warnLine);
        return ref;
      }),
    };
  },
});
