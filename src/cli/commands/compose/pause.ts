/** `compose pause`: pause the services' containers. */
import { defineCommand } from '../../command.js';
import { withProject } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'pause',
  describe: 'Pause services',
  usage: '[SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {},
  handler: (_o, { service }, ctx) =>
    withProject(ctx, async (project, r) => {
      const { pauseServices } = await import('../../../compose/engine/verbs.js');
      await pauseServices(project, service, r);
    }),
});
