/** `compose up`: create and start the project's containers; in the foreground, their logs until they end or Ctrl-C stops them. */
import { defineCommand } from '../../command.js';
import { CONVERGE_OPTIONS } from './project-options.js';
import { composeExit, convergeOptions, inProjectNetns, loadFromContext, quietPull, reporter } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'up',
  describe: 'Create and start containers',
  usage: '[OPTIONS] [SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {
    ...CONVERGE_OPTIONS,
    detach: { type: 'boolean', alias: 'd', default: false, describe: 'Detached mode: Run containers in the background' },
    pull: { type: 'string', choices: ['always', 'missing', 'never', 'policy'], default: 'policy', describe: 'Pull image before running ("always"|"missing"|"never")' },
    'no-deps': { type: 'boolean', default: false, describe: "Don't start linked services" },
    'no-start': { type: 'boolean', default: false, describe: "Don't start the services after creating them" },
    wait: { type: 'boolean', default: false, describe: 'Wait for services to be running|healthy. Implies detached mode.' },
    'wait-timeout': { type: 'int', default: 0, describe: 'Maximum duration in seconds to wait for the project to be running|healthy' },
    'renew-anon-volumes': { type: 'boolean', alias: 'V', default: false, describe: 'Recreate anonymous volumes instead of retrieving data from the previous containers' },
    timeout: { type: 'int', alias: 't', describe: 'Use this timeout in seconds for container shutdown when attached or when containers are already running' },
    'abort-on-container-exit': { type: 'boolean', default: false, describe: 'Stops all containers if any container was stopped. Incompatible with -d' },
    'exit-code-from': { type: 'string', describe: 'Return the exit code of the selected service container. Implies --abort-on-container-exit' },
    'no-log-prefix': { type: 'boolean', default: false, describe: "Don't print prefix in logs" },
    'no-color': { type: 'boolean', default: false, describe: 'Produce monochrome output' },
    timestamps: { type: 'boolean', default: false, describe: 'Show timestamps' },
    watch: { type: 'boolean', alias: 'w', default: false, describe: 'Watch source code and rebuild/refresh containers when files are updated.' },
  },
  userns: true,
  netns: inProjectNetns,
  handler: (o, { service }, ctx) =>
    composeExit(async () => {
      const { SkiffError } = await import('../../../errors.js');
      const converge = convergeOptions(o);
      const detach = o.detach || o.wait;
      if (detach && (o['abort-on-container-exit'] || o['exit-code-from'])) throw new SkiffError('EINVAL', `--abort-on-container-exit and -d${o.wait ? ' (--wait)' : ''} cannot be combined`, 1);
      if (detach && o.watch) throw new SkiffError('EINVAL', `--watch and -d${o.wait ? ' (--wait)' : ''} cannot be combined`, 1);
      const project = await loadFromContext(ctx);
      if (o.watch) {
        const { activeRules } = await import('../../../compose/engine/watch-rules.js');
        activeRules(project, service);
      }
      const engine = await import('../../../compose/engine/engine.js');
      const r = reporter(ctx);
      const res = await engine.up(
        project,
        {
          ...converge, services: service, noDeps: o['no-deps'], ...(o.pull !== 'policy' ? { pull: o.pull } : {}), pullFn: quietPull,
          buildLog: (l) => ctx.stderr.write(`${l}\n`), noStart: o['no-start'], wait: o.wait, waitTimeout: o['wait-timeout'], renewAnonVolumes: o['renew-anon-volumes'],
          ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
        },
        r,
      );
      if (detach || o['no-start']) return;
      const { attachProject } = await import('./up-attach.js');
      const attached = attachProject(ctx, project, res.containers.map((c) => c.id), {
        prefix: !o['no-log-prefix'], timestamps: o.timestamps, abortOnExit: o['abort-on-container-exit'] || o['exit-code-from'] !== undefined,
        ...(o['exit-code-from'] !== undefined ? { exitCodeFrom: o['exit-code-from'] } : {}), ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
      });
      if (o.watch) {
        const { watchUntilStopped } = await import('./watch.js');
        await watchUntilStopped(ctx, project, service, { quiet: false, prune: true, until: attached });
      }
      return attached;
    }),
});
