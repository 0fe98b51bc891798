/** `compose push [SERVICE...]`: push the images of the services that have a build section and an image name. */
import { defineCommand } from '../../command.js';
import { withProject } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'push',
  describe: 'Push service images',
  usage: '[OPTIONS] [SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {
    'ignore-push-failures': { type: 'boolean', default: false, describe: 'Push what it can and ignores images with push failures' },
    'include-deps': { type: 'boolean', default: false, describe: 'Also push images of services declared as dependencies' },
    quiet: { type: 'boolean', alias: 'q', default: false, describe: 'Push without printing progress information' },
  },
  userns: true,
  handler: (o, { service }, ctx) =>
    withProject(ctx, async (project, r) => {
      const { pushServices, selectServices } = await import('../../../compose/engine/verbs.js');
      const { pushImage } = await import('../../../image/push.js');
      const services = o['include-deps'] && service.length ? selectServices(project, service) : service;
      const quiet = o.quiet ? { event: () => undefined, warn: r.warn } : r;
      await pushServices(project, services, { ignoreFailures: o['ignore-push-failures'], push: async (image) => void (await pushImage(image, {})) }, quiet);
    }),
});
