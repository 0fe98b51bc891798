/** `stop`: the stop signal, then SIGKILL after the timeout. */
import { eachContainer, ignoringMissing } from '../../batch.js';
import { defineCommand } from '../../command.js';
import { allOption, latestOption, targets } from '../../targets.js';

export default defineCommand({
  group: 'container',
  name: 'stop',
  aliases: ['stop'],
  describe: 'Stop one or more running containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: [{ name: 'container', variadic: true }],
  options: {
    all: allOption('Stop all running containers'),
    ignore: { alias: 'i', type: 'boolean', default: false, describe: 'Ignore names that are no container (Podman)' },
    latest: latestOption(),
    cidfile: { type: 'string', repeat: true, describe: 'Read the container ID from the file (Podman; with --ignore a missing file is skipped)' },
    time: { alias: ['t', 'timeout'], type: 'int', describe: "Seconds to wait before killing (default: the container's --stop-timeout, else 10)" },
    signal: { alias: 's', type: 'string', describe: 'Signal to send to the container (default: its STOPSIGNAL, else SIGTERM)' },
  },
  handler: async (o, { container }, ctx) => {
    const named = o.cidfile.length ? (await import('../../cidfile.js')).withIdsFromCidFiles(container, o.cidfile, o.ignore) : container;
    if (!named) return;
    const refs = await targets(o, named, ctx.invokedAs, ['running', 'paused', 'restarting']);
    const [{ parseSignal }, { stopContainer }] = await Promise.all([import('../../../container/signals.js'), import('../../../container/lifecycle.js')]);
    const sig = o.signal;
    if (sig !== undefined) parseSignal(sig);
    return {
      items: ignoringMissing(
        eachContainer(refs, (rec) => stopContainer(sig === undefined ? rec : { ...rec, Config: { ...rec.Config, StopSignal: sig } }, o.time)),
        o.ignore,
      ),
    };
  },
});
