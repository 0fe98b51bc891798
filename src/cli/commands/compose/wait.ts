/** `compose wait SERVICE...`: block until the services' containers stop; Docker Compose's lines and exit code. */
import { defineCommand } from '../../command.js';
import { withProject } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'wait',
  describe: 'Block until containers of all (or specified) services stop.',
  usage: 'SERVICE [SERVICE...] [OPTIONS]',
  positionals: [{ name: 'service', required: true, variadic: true }],
  options: {
    'down-project': { type: 'boolean', default: false, describe: 'Drops project when the first container stops' },
  },
  // --down-project removes containers (their files: the user namespace) and leaves their networks
  userns: true,
  netns: async (o) => o['down-project'] && (await import('../../../network/rootless-netns.js')).netnsRunning(),
  handler: (o, { service }, ctx) =>
    withProject(ctx, async (project, r) => {
      const { waitServices } = await import('../../../compose/engine/access.js');
      const code = await waitServices(project, service, ({ id, exitCode }) => void ctx.stdout.write(`container ${JSON.stringify(id)} exited with status code ${exitCode}\n`));
      if (o['down-project']) {
        const { down } = await import('../../../compose/engine/engine.js');
        await down(project, { removeOrphans: true }, r);
      }
      return { exitCode: code };
    }),
});
