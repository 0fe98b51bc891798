/** `rm`: remove containers (-f: running ones too; -v: their anonymous volumes). */
import { eachItem, ignoringMissing } from '../../batch.js';
import { defineCommand } from '../../command.js';
import { allOption, latestOption, targets } from '../../targets.js';

export default defineCommand({
  group: 'container',
  name: 'rm',
  aliases: ['container remove', 'rm'],
  describe: 'Remove one or more containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: [{ name: 'container', variadic: true }],
  options: {
    all: allOption('Remove all containers'),
    ignore: { alias: 'i', type: 'boolean', default: false, describe: 'Ignore names that are no container (Podman)' },
    latest: latestOption(false),
    time: { alias: 't', type: 'int', describe: 'Seconds to wait for a running container to stop before killing it (with --force)' },
    force: { alias: 'f', type: 'boolean', default: false, describe: 'Force the removal of a running container (uses SIGKILL)' },
    volumes: { alias: 'v', type: 'boolean', default: false, describe: 'Remove anonymous volumes associated with the container' },
  },
  userns: true,
  netns: async (o, { container }) => {
    const m = await import('../../../network/rootless-netns.js');
    return m.netnsRunning() && (o.all || o.latest || m.onUserNetworks(container));
  },
  handler: async (o, { container }, ctx) => {
    const refs = await targets(o, container, ctx.invokedAs);
    const { removeContainer } = await import('../../../container/lifecycle.js');
    return {
      items: ignoringMissing(
        eachItem(refs, async (ref) => {
          await removeContainer(ref, { force: o.force, volumes: o.volumes, ...(o.time !== undefined ? { stopTimeout: o.time } : {}) });
          return ref;
        }),
        o.ignore,
      ),
    };
  },
});
