/** `compose rm [-f] [-s] [-v]`: remove the services' stopped containers (asks first without -f). */
import { defineCommand } from '../../command.js';
import { withProject } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'rm',
  describe: 'Removes stopped service containers',
  usage: '[OPTIONS] [SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {
    force: { type: 'boolean', alias: 'f', default: false, describe: "Don't ask to confirm removal" },
    stop: { type: 'boolean', alias: 's', default: false, describe: 'Stop the containers, if required, before removing' },
    volumes: { type: 'boolean', alias: 'v', default: false, describe: 'Remove any anonymous volumes attached to containers' },
  },
  userns: true,
  // rootless: the containers' network teardown runs in the rootless network namespace while it exists
  netns: async () => (await import('../../../network/rootless-netns.js')).netnsRunning(),
  handler: (o, { service }, ctx) =>
    withProject(ctx, async (project, r) => {
      const { removeServices } = await import('../../../compose/engine/verbs.js');
      // asked on a terminal only, as skiff's other prompts (confirm.ts)
      const { confirmed } = await import('../../confirm.js');
      let asked = false;
      const confirm = (names: string[]): Promise<boolean> => {
        asked = true;
        return confirmed(o.force, `Going to remove ${names.join(', ')}`, 'Are you sure? [y/N]');
      };
      const n = await removeServices(project, service, { stop: o.stop, volumes: o.volumes, confirm }, r);
      if (n === 0 && !asked) ctx.stderr.write('No stopped containers\n');
    }),
});
