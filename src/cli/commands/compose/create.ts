/** `compose create`: create the project's containers (as `up --no-start`), start nothing. */
import { defineCommand } from '../../command.js';
import { CONVERGE_OPTIONS } from './project-options.js';
import { convergeOptions, inProjectNetns, quietPull, withProject } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'create',
  describe: 'Creates containers for a service',
  usage: '[OPTIONS] [SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {
    ...CONVERGE_OPTIONS,
    pull: { type: 'string', choices: ['always', 'missing', 'never', 'build', 'policy'], default: 'policy', describe: 'Pull image before running ("always"|"missing"|"never"|"build")' },
  },
  userns: true,
  netns: inProjectNetns,
  handler: (o, { service }, ctx) =>
    withProject(ctx, async (project, r) => {
      const converge = convergeOptions(o);
      const { up } = await import('../../../compose/engine/engine.js');
      await up(
        project,
        {
          ...converge, services: service, build: o.build || o.pull === 'build', ...(o.pull === 'always' || o.pull === 'missing' || o.pull === 'never' ? { pull: o.pull } : {}),
          pullFn: quietPull, buildLog: (l) => ctx.stderr.write(`${l}\n`), noStart: true,
        },
        r,
      );
    }),
});
