/** `exec`: a command in a running container (its namespaces and cgroups). */
import { execInContainer } from '../../../container/lifecycle.js';
import { defineCommand } from '../../command.js';
import { refuseTtyWithoutTerminal } from '../../terminal.js';

export default defineCommand({
  group: 'container',
  name: 'exec',
  aliases: ['exec'],
  describe: 'Execute a command in a running container',
  usage: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  positionals: [{ name: 'container', required: true }, { name: 'command', required: true, variadic: true }],
  options: {
    interactive: { alias: 'i', type: 'boolean', default: false, describe: 'Keep STDIN open' },
    tty: { alias: 't', type: 'boolean', default: false, describe: 'Allocate a pseudo-TTY' },
    detach: { alias: 'd', type: 'boolean', default: false, hidden: true },
    env: { alias: 'e', type: 'string', repeat: true, describe: 'Set environment variables' },
    user: { alias: 'u', type: 'string', describe: 'Username or UID (format: <name|uid>[:<group|gid>])' },
    workdir: { alias: 'w', type: 'string', describe: 'Working directory inside the container' },
    privileged: { type: 'boolean', default: false, describe: 'Give extended privileges to the command' },
  },
  passthrough: true,
  handler: async (o, { container, command }, ctx) => {
    if (o.tty && o.interactive && !o.detach) refuseTtyWithoutTerminal();
    await execInContainer(container, {
      args: command, tty: o.tty, interactive: o.interactive, env: o.env, user: o.user, workdir: o.workdir, privileged: o.privileged,
    }, ctx.beforeExecve);
  },
});
