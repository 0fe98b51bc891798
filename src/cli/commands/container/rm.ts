/** `rm`: remove containers (-f: running ones too; -v: their anonymous volumes). */
import { eachItem } from '../../batch.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'rm',
  aliases: ['container remove', 'rm'],
  describe: 'Remove one or more containers',
  positionals: [{ name: 'container', required: true, variadic: true }],
  options: {
    force: { alias: 'f', type: 'boolean', default: false, describe: 'Force the removal of a running container (uses SIGKILL)' },
    volumes: { alias: 'v', type: 'boolean', default: false, describe: 'Remove anonymous volumes associated with the container' },
  },
  userns: true,
  netns: async (_o, { container }) => (await import('../../../network/rootless-netns.js')).netnsRunning() && (await import('../../../network/rootless-netns.js')).onUserNetworks(container),
  handler: async (o, { container }) => {
    const { removeContainer } = await import('../../../container/lifecycle.js');
    return {
      items: eachItem(container, async (ref) => {
        await removeContainer(ref, { force: o.force, volumes: o.volumes });
        return ref;
      }),
    };
  },
});
