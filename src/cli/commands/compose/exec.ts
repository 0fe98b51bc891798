/** `compose exec`: a command in a running container of a service (--index picks the replica). */
import { defineCommand } from '../../command.js';
import { composeExit, loadFromContext } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'exec',
  describe: 'Execute a command in a running container',
  usage: '[OPTIONS] SERVICE COMMAND [ARGS...]',
  positionals: [{ name: 'service', required: true }, { name: 'command', required: true }, { name: 'arg', variadic: true }],
  passthrough: true,
  options: {
    detach: { type: 'boolean', alias: 'd', default: false, describe: 'Detached mode: Run command in the background' },
    env: { type: 'string', alias: 'e', repeat: true, describe: 'Set environment variables' },
    index: { type: 'int', default: 0, describe: 'Index of the container if service has multiple replicas' },
    'no-TTY': { type: 'boolean', alias: 'T', default: false, describe: 'Disable pseudo-TTY allocation. By default `docker compose exec` allocates a TTY.' },
    privileged: { type: 'boolean', default: false, describe: 'Give extended privileges to the process' },
    user: { type: 'string', alias: 'u', describe: 'Run the command as this user' },
    workdir: { type: 'string', alias: 'w', describe: 'Path to workdir directory for this command' },
  },
  handler: (o, { service, command, arg }, ctx) =>
    composeExit(async () => {
      const { SkiffError } = await import('../../../errors.js');
      if (o.detach) throw new SkiffError('EINVAL', 'exec -d is not supported by skiff', 1);
      const project = await loadFromContext(ctx);
      const { serviceContainers } = await import('../../../compose/engine/engine.js');
      const list = (await serviceContainers(project, [service], { index: o.index || 1 })).filter((c) => c.existing.running);
      if (!list.length) throw new SkiffError('ESTATE', `service "${service}" is not running`, 1);
      const { execInContainer } = await import('../../../container/lifecycle.js');
      await execInContainer(list[0]!.rec.Id, {
        args: [command, ...arg], tty: !o['no-TTY'] && Boolean(ctx.stdin.isTTY), interactive: true, env: o.env,
        ...(o.user !== undefined ? { user: o.user } : {}), ...(o.workdir !== undefined ? { workdir: o.workdir } : {}), privileged: o.privileged,
      }, ctx.beforeExecve);
    }),
});
