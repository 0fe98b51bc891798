/** `compose restart [-t] [--no-deps]`: restart the services' containers (and the services depending on them). */
import { defineCommand } from '../../command.js';
import { inProjectNetns, withProject } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'restart',
  describe: 'Restart service containers',
  usage: '[OPTIONS] [SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {
    'no-deps': { type: 'boolean', default: false, describe: "Don't restart dependent services" },
    timeout: { type: 'int', alias: 't', describe: 'Specify a shutdown timeout in seconds' },
  },
  // rootless: the project's containers are made and started inside skiff's user namespace (as up)
  userns: true,
  netns: inProjectNetns,
  handler: (o, { service }, ctx) =>
    withProject(ctx, async (project, r) => {
      const { restartServices } = await import('../../../compose/engine/verbs.js');
      await restartServices(project, service, { noDeps: o['no-deps'], ...(o.timeout !== undefined ? { timeout: o.timeout } : {}) }, r);
    }),
});
