/** `compose down`: stop and remove the project's containers (dependents first) and networks; -v its volumes, --rmi its images. */
import { defineCommand } from '../../command.js';
import { composeExit, loadFromContext, reporter } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'down',
  describe: 'Stop and remove containers, networks',
  usage: '[OPTIONS] [SERVICES]',
  positionals: [],
  options: {
    volumes: { type: 'boolean', alias: 'v', default: false, describe: 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers' },
    rmi: { type: 'string', choices: ['local', 'all'], describe: 'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")' },
    'remove-orphans': { type: 'boolean', default: false, describe: 'Remove containers for services not defined in the Compose file' },
    timeout: { type: 'int', alias: 't', describe: 'Specify a shutdown timeout in seconds' },
  },
  userns: true,
  netns: async () => (await import('../../../network/rootless-netns.js')).netnsRunning(),
  handler: (o, _a, ctx) =>
    composeExit(async () => {
      const project = await loadFromContext(ctx);
      const { down } = await import('../../../compose/engine/engine.js');
      await down(project, { volumes: o.volumes, removeOrphans: o['remove-orphans'], ...(o.rmi ? { rmi: o.rmi } : {}), ...(o.timeout !== undefined ? { timeout: o.timeout } : {}) }, reporter(ctx));
    }),
});
