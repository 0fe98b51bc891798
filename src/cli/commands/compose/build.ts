/** `compose build [SERVICE...]`: build the services' images with skiff's builder (as `up --build`). */
import { defineCommand } from '../../command.js';
import { quietPull, withProject } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'build',
  describe: 'Build or rebuild services',
  usage: '[OPTIONS] [SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {
    'build-arg': { type: 'string', repeat: true, describe: 'Set build-time variables for services' },
    'no-cache': { type: 'boolean', default: false, describe: 'Do not use cache when building the image' },
    pull: { type: 'boolean', default: false, describe: 'Always attempt to pull a newer version of the image' },
    quiet: { type: 'boolean', alias: 'q', default: false, describe: "Don't print anything to STDOUT" },
    'with-dependencies': { type: 'boolean', default: false, describe: 'Also build dependencies (transitively)' },
  },
  userns: true,
  handler: (o, { service }, ctx) =>
    withProject(ctx, async (project, r) => {
      const { buildServices, selectServices } = await import('../../../compose/engine/verbs.js');
      const services = o['with-dependencies'] && service.length ? selectServices(project, service) : service;
      await buildServices(project, services, { noCache: o['no-cache'], pullBase: o.pull, buildArgs: o['build-arg'], pullFn: quietPull, ...(o.quiet ? {} : { buildLog: (l) => ctx.stderr.write(`${l}\n`) }) }, r);
    }),
});
