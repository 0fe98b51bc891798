/** `compose unpause`: unpause the services' containers. */
import { defineCommand } from '../../command.js';
import { withProject } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'unpause',
  describe: 'Unpause services',
  usage: '[SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {},
  handler: (_o, { service }, ctx) =>
    withProject(ctx, async (project, r) => {
      const { unpauseServices } = await import('../../../compose/engine/verbs.js');
      await unpauseServices(project, service, r);
    }),
});
