/** `compose stop [-t]`: stop the services' containers, dependents first. */
import { defineCommand } from '../../command.js';
import { withProject } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'stop',
  describe: 'Stop services',
  usage: '[OPTIONS] [SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {
    timeout: { type: 'int', alias: 't', describe: 'Specify a shutdown timeout in seconds' },
  },
  handler: (o, { service }, ctx) =>
    withProject(ctx, async (project, r) => {
      const { stopServices } = await import('../../../compose/engine/verbs.js');
      await stopServices(project, service, { ...(o.timeout !== undefined ? { timeout: o.timeout } : {}) }, r);
    }),
});
