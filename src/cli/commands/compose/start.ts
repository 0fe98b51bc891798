/** `compose start`: start the services' existing containers, in dependency order. */
import { defineCommand } from '../../command.js';
import { inProjectNetns, withProject } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'start',
  describe: 'Start services',
  usage: '[SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {
    wait: { type: 'boolean', default: false, describe: 'Wait for services to be running|healthy' },
    'wait-timeout': { type: 'int', default: 0, describe: 'Maximum duration in seconds to wait for the project to be running|healthy' },
  },
  // rootless: the project's containers are made and started inside skiff's user namespace (as up)
  userns: true,
  netns: inProjectNetns,
  handler: (o, { service }, ctx) =>
    withProject(ctx, async (project, r) => {
      const { startServices } = await import('../../../compose/engine/verbs.js');
      await startServices(project, service, { wait: o.wait, waitTimeout: o['wait-timeout'] }, r);
    }),
});
