/** `compose pull [SERVICE...]`: pull the services' images. */
import { defineCommand } from '../../command.js';
import { quietPull, withProject } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'pull',
  describe: 'Pull service images',
  usage: '[OPTIONS] [SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {
    'ignore-pull-failures': { type: 'boolean', default: false, describe: 'Pull what it can and ignores images with pull failures' },
    'include-deps': { type: 'boolean', default: false, describe: 'Also pull services declared as dependencies' },
    quiet: { type: 'boolean', alias: 'q', default: false, describe: 'Pull without printing progress information' },
  },
  userns: true,
  handler: (o, { service }, ctx) =>
    withProject(ctx, async (project, r) => {
      const { pullServices, selectServices } = await import('../../../compose/engine/verbs.js');
      const services = o['include-deps'] && service.length ? selectServices(project, service) : service;
      const quiet = o.quiet ? { event: () => undefined, warn: r.warn } : r;
      await pullServices(project, services, { ignoreFailures: o['ignore-pull-failures'], pullFn: quietPull }, quiet);
    }),
});
