/** `start`: start stopped containers (detached), or one attached (-a). */
import { SkiffError } from '../../../errors.js';
import { eachContainer } from '../../batch.js';
import { defineCommand } from '../../command.js';
import { allOption, latestOption, targets } from '../../targets.js';
import { DETACH_KEYS_OPTION } from '../run-options.js';

export default defineCommand({
  group: 'container',
  name: 'start',
  aliases: ['start'],
  describe: 'Start one or more stopped containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: [{ name: 'container', variadic: true }],
  options: {
    all: allOption('Start all stopped containers', false),
    filter: { alias: 'f', type: 'string', repeat: true, describe: 'Start the containers that match these filters (Podman)' },
    latest: latestOption(),
    attach: { alias: 'a', type: 'boolean', default: false, describe: 'Attach STDOUT/STDERR and forward signals' },
    interactive: { alias: 'i', type: 'boolean', default: false, describe: "Attach container's STDIN" },
    'detach-keys': DETACH_KEYS_OPTION,
  },
  netns: async (o, { container }) => {
    const m = await import('../../../network/rootless-netns.js');
    return o.all || o.latest || o.filter.length ? m.netnsRunning() : m.onUserNetworks(container);
  },
  handler: async (o, { container }, ctx) => {
    const refs = await targets(o, container, ctx.invokedAs, ['created', 'exited']);
    const { startAttached, startDetached, startInteractive } = await import('../../../container/lifecycle.js');
    if (o.attach || o.interactive) {
      if (refs.length > 1) throw new SkiffError('EINVAL', 'you cannot start and attach multiple containers at once');
      const { findContainer } = await import('../../../store/containers.js');
      const rec = findContainer(refs[0]!);
      if (o.interactive && rec.Config.OpenStdin && rec.Config.Tty) {
        // a terminal with stdin attached: under the monitor, so the detach keys leave it running
        const { refuseTtyWithoutTerminal, checkedDetachKeys } = await import('../../tty.js');
        refuseTtyWithoutTerminal();
        return { exitCode: await startInteractive(rec, await checkedDetachKeys(o['detach-keys'])) };
      }
      // Docker's start -a: both outputs; stdin with -i, when the container keeps it open
      await startAttached(rec, ctx.beforeExecve, { stdin: o.interactive && rec.Config.OpenStdin, stdout: true, stderr: true });
      return;
    }
    return { items: eachContainer(refs, (rec) => startDetached(rec, { alone: true })) };
  },
});
