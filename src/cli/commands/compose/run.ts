/** `compose run`: a one-off container of a service (its dependencies brought up first), attached or detached. */
import { defineCommand } from '../../command.js';
import { composeExit, inProjectNetns, loadFromContext, reporter } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'run',
  describe: 'Run a one-off command on a service',
  usage: '[OPTIONS] SERVICE [COMMAND] [ARGS...]',
  positionals: [{ name: 'service', required: true }, { name: 'command', variadic: true }],
  passthrough: true,
  options: {
    detach: { type: 'boolean', alias: 'd', default: false, describe: 'Run container in background and print container ID' },
    rm: { type: 'boolean', default: false, describe: 'Automatically remove the container when it exits' },
    name: { type: 'string', describe: 'Assign a name to the container' },
    entrypoint: { type: 'string', describe: 'Override the entrypoint of the image' },
    env: { type: 'string', alias: 'e', repeat: true, describe: 'Set environment variables' },
    label: { type: 'string', alias: 'l', repeat: true, describe: 'Add or override a label' },
    volume: { type: 'string', alias: 'v', repeat: true, describe: 'Bind mount a volume' },
    user: { type: 'string', alias: 'u', describe: 'Run as specified username or uid' },
    workdir: { type: 'string', alias: 'w', describe: 'Working directory inside the container' },
    'no-TTY': { type: 'boolean', alias: 'T', default: false, describe: 'Disable pseudo-TTY allocation (default: auto-detected)' },
    interactive: { type: 'boolean', alias: 'i', default: true, describe: 'Keep STDIN open even if not attached' },
    publish: { type: 'string', alias: 'p', repeat: true, describe: "Publish a container's port(s) to the host" },
    'service-ports': { type: 'boolean', alias: 'P', default: false, describe: "Run command with all service's ports enabled and mapped to the host" },
    'no-deps': { type: 'boolean', default: false, describe: "Don't start linked services" },
    build: { type: 'boolean', default: false, describe: 'Build image before starting container' },
    pull: { type: 'string', choices: ['always', 'missing', 'never', 'policy'], default: 'policy', describe: 'Pull image before running ("always"|"missing"|"never")' },
    'quiet-pull': { type: 'boolean', default: false, describe: 'Pull without printing progress information' },
    'remove-orphans': { type: 'boolean', default: false, describe: 'Remove containers for services not defined in the Compose file' },
  },
  netns: inProjectNetns,
  handler: (o, { service, command }, ctx) =>
    composeExit(async () => {
      const project = await loadFromContext(ctx);
      const { createOneOff } = await import('../../../compose/engine/engine.js');
      const { pullToStderr } = await import('../../pull.js');
      const { splitShellWords: shellSplit } = await import('../../../compose/shellwords.js');
      const tty = !o['no-TTY'] && !o.detach && Boolean(ctx.stdin.isTTY);
      const rec = await createOneOff(project, service, {
        ...(o.name !== undefined ? { name: o.name } : {}),
        noDeps: o['no-deps'], build: o.build, ...(o.pull !== 'policy' ? { pull: o.pull } : {}), pullFn: pullToStderr,
        buildLog: (l) => ctx.stderr.write(`${l}\n`), labels: o.label, volumes: o.volume,
        run: {
          ...(command.length ? { command } : {}),
          ...(o.entrypoint !== undefined ? { entrypoint: shellSplit(o.entrypoint) } : {}),
          env: o.env, servicePorts: o['service-ports'], publish: o.publish, tty, interactive: o.interactive && !o.detach, rm: o.rm,
          ...(o.user !== undefined ? { user: o.user } : {}), ...(o.workdir !== undefined ? { workdir: o.workdir } : {}),
        },
      }, reporter(ctx));
      const { runCreated } = await import('../../../container/lifecycle.js');
      await runCreated(rec, o.detach, ctx.beforeExecve);
      return `${rec.Name}\n`;
    }),
});
