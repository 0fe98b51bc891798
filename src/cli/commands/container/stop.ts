/** `stop`: the stop signal, then SIGKILL after the timeout. */
import { eachContainer } from '../../batch.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'stop',
  aliases: ['stop'],
  describe: 'Stop one or more running containers',
  positionals: [{ name: 'container', required: true, variadic: true }],
  options: {
    time: { alias: 't', type: 'int', describe: "Seconds to wait before killing (default: the container's --stop-timeout, else 10)" },
    signal: { alias: 's', type: 'string', describe: 'Signal to send to the container (default: its STOPSIGNAL, else SIGTERM)' },
  },
  handler: async (o, { container }) => {
    const [{ parseSignal }, { stopContainer }] = await Promise.all([import('../../../container/signals.js'), import('../../../container/lifecycle.js')]);
    const sig = o.signal;
    if (sig !== undefined) parseSignal(sig);
    return {
      items: eachContainer(container, (rec) => stopContainer(sig === undefined ? rec : { ...rec, Config: { ...rec.Config, StopSignal: sig } }, o.time)),
    };
  },
});
