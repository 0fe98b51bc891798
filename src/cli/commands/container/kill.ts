/** `kill`: send a signal (default SIGKILL) to the containers' init. */
import { killContainer } from '../../../container/lifecycle.js';
import { parseSignal } from '../../../container/signals.js';
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
  handler: (o, { container }) => {
    const sig = parseSignal(o.signal);
    return { items: eachContainer(container, (rec) => killContainer(rec, sig)) };
  },
});
