/** `kill`: send a signal (default KILL). */
import { eachContainer } from '../../batch.js';
import { defineCommand } from '../../command.js';
import { allOption, latestOption, targets } from '../../targets.js';

export default defineCommand({
  group: 'container',
  name: 'kill',
  aliases: ['kill'],
  describe: 'Kill one or more running containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: [{ name: 'container', variadic: true }],
  options: {
    all: allOption('Kill all running containers'),
    latest: latestOption(),
    signal: { alias: 's', type: 'string', default: 'KILL', describe: 'Signal to send' },
  },
  handler: async (o, { container }, ctx) => {
    const refs = await targets(o, container, ctx.invokedAs, ['running', 'paused', 'restarting']);
    const [{ parseSignal }, { killContainer }] = await Promise.all([import('../../../container/signals.js'), import('../../../container/lifecycle.js')]);
    const sig = parseSignal(o.signal);
    return { items: eachContainer(refs, (rec) => killContainer(rec, sig)) };
  },
});
