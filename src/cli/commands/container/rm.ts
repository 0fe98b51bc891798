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
    cidfile: { type: 'string', repeat: true, describe: 'Read the container ID from the file (Podman; with --ignore a missing file is skipped)' },
    time: { alias: 't', type: 'int', describe: 'Seconds to wait for a running container to stop before killing it (with --force)' },
    force: { alias: 'f', type: 'boolean', default: false, describe: 'Force the removal of a running container (uses SIGKILL)' },
    volumes: { alias: 'v', type: 'boolean', default: false, describe: 'Remove anonymous volumes associated with the container' },
  },
  userns: true,
  netns: async (o, { container }) => {
    const m = await import('../../../network/rootless-netns.js');
    if (!m.netnsRunning()) return false;
    // the ids in --cidfile files too
    const fromFiles = o.cidfile.length ? (await import('../../cidfile.js')).idsFromCidFiles(o.cidfile, true) : [];
    return o.all || o.latest || m.onUserNetworks([...container, ...fromFiles]);
  },
  handler: async (o, { container }, ctx) => {
    const named = o.cidfile.length ? (await import('../../cidfile.js')).withIdsFromCidFiles(container, o.cidfile, o.ignore) : container;
    if (!named) return;
    const refs = await targets(o, named, ctx.invokedAs);
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
