/** `compose create`: create the project's containers (as `up --no-start`), start nothing. */
import { defineCommand } from '../../command.js';
import { parseScale, quietPull, withProject } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'create',
  describe: 'Creates containers for a service',
  usage: '[OPTIONS] [SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {
    build: { type: 'boolean', default: false, describe: 'Build images before starting containers' },
    'no-build': { type: 'boolean', default: false, describe: "Don't build an image, even if it's policy" },
    pull: { type: 'string', choices: ['always', 'missing', 'never', 'build', 'policy'], default: 'policy', describe: 'Pull image before running ("always"|"missing"|"never"|"build")' },
    'force-recreate': { type: 'boolean', default: false, describe: "Recreate containers even if their configuration and image haven't changed" },
    'no-recreate': { type: 'boolean', default: false, describe: "If containers already exist, don't recreate them. Incompatible with --force-recreate." },
    'remove-orphans': { type: 'boolean', default: false, describe: 'Remove containers for services not defined in the Compose file' },
    scale: { type: 'string', repeat: true, describe: 'Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.' },
    'quiet-pull': { type: 'boolean', default: false, describe: 'Pull without printing progress information' },
  },
  userns: true,
  handler: (o, { service }, ctx) =>
    withProject(ctx, async (project, r) => {
      const { SkiffError } = await import('../../../errors.js');
      if (o['force-recreate'] && o['no-recreate']) throw new SkiffError('EINVAL', '--force-recreate and --no-recreate are incompatible', 1);
      if (o.build && o['no-build']) throw new SkiffError('EINVAL', '--build and --no-build are incompatible', 1);
      const { up } = await import('../../../compose/engine/engine.js');
      await up(
        project,
        {
          services: service, forceRecreate: o['force-recreate'], noRecreate: o['no-recreate'], removeOrphans: o['remove-orphans'], scale: parseScale(o.scale),
          build: o.build || o.pull === 'build', noBuild: o['no-build'], ...(o.pull === 'always' || o.pull === 'missing' || o.pull === 'never' ? { pull: o.pull } : {}),
          pullFn: quietPull, buildLog: (l) => ctx.stderr.write(`${l}\n`), noStart: true,
        },
        r,
      );
    }),
});
