/** `compose kill [-s SIGNAL]`: signal the services' running containers (default SIGKILL). */
import { defineCommand } from '../../command.js';
import { withProject } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'kill',
  describe: 'Force stop service containers',
  usage: '[OPTIONS] [SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {
    signal: { type: 'string', alias: 's', default: 'SIGKILL', describe: 'SIGNAL to send to the container' },
  },
  handler: (o, { service }, ctx) =>
    withProject(ctx, async (project, r) => {
      const [{ killServices }, { parseSignal }] = await Promise.all([import('../../../compose/engine/verbs.js'), import('../../../container/signals.js')]);
      const sig = parseSignal(o.signal);
      await killServices(project, service, sig, r);
    }),
});
