/** `exec`: run a command in a running container (options end at the container: the command is kept verbatim). */
import { SkiffError } from '../../../errors.js';
import { defineCommand } from '../../command.js';
import { DETACH_KEYS_OPTION } from '../run-options.js';

export default defineCommand({
  group: 'container',
  name: 'exec',
  aliases: ['exec'],
  describe: 'Execute a command in a running container',
  usage: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  positionals: [{ name: 'container', required: true }, { name: 'command', variadic: true }],
  options: {
    interactive: { alias: 'i', type: 'boolean', default: false, describe: 'Keep STDIN open' },
    tty: { alias: 't', type: 'boolean', default: false, describe: 'Allocate a pseudo-TTY' },
    detach: { alias: 'd', type: 'boolean', default: false, hidden: true },
    env: { alias: 'e', type: 'string', repeat: true, describe: 'Set environment variables' },
    'env-file': { type: 'string', repeat: true, describe: 'Read in a file of environment variables' },
    user: { alias: 'u', type: 'string', describe: 'Username or UID (format: <name|uid>[:<group|gid>])' },
    workdir: { alias: 'w', type: 'string', describe: 'Working directory inside the container' },
    privileged: { type: 'boolean', default: false, describe: 'Give extended privileges to the command (every capability)' },
    'detach-keys': DETACH_KEYS_OPTION,
  },
  passthrough: true,
  handler: async (o, { container, command }, ctx) => {
    if (!command.length) throw new SkiffError('EINVAL', "exec requires at least 2 arguments: 'skiff exec [OPTIONS] CONTAINER COMMAND [ARG...]'");
    if (o.tty && o.interactive && !o.detach) (await import('../../tty.js')).refuseTtyWithoutTerminal();
    const { execInContainer } = await import('../../../container/lifecycle.js');
    const { detachKeys } = await import('../../client-config.js');
    const { parseDetachKeys } = await import('../../../container/attach.js');
    // Docker's detach keys work on a terminal with stdin attached (-it)
    const keys = o.tty && o.interactive ? parseDetachKeys(detachKeys(o['detach-keys'])) : undefined;
    await execInContainer(container, {
      args: command, tty: o.tty, interactive: o.interactive, env: o.env, envFile: o['env-file'], user: o.user, workdir: o.workdir, privileged: o.privileged,
    }, ctx.beforeExecve, keys);
  },
});
