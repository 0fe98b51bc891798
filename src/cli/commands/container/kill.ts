/** `kill`: send a signal (default KILL). */
import { eachContainer } from '../../batch.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'kill',
  aliases: ['kill'],
  describe: 'Kill one or more running containers',
  positionals: [{ name: 'container', required: true, variadic: true }],
  options: {
    signal: { alias: 's', type: 'string', default: 'KILL', describe: 'Signal to send' },
  },
  handler: async (o, { container }) => {
    const [{ parseSignal }, { killContainer }] = await Promise.all([import('../../../container/signals.js'), import('../../../container/lifecycle.js')]);
    const sig = parseSignal(o.signal);
    return { items: eachContainer(container, (rec) => killContainer(rec, sig)) };
  },
});
