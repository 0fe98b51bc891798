/** `exec` (old style: options end at the container through argv.ts until dispatch reads the registry; its descriptor: container/exec.ts); run and create: run.ts. */
import type { CommandModule } from 'yargs';
import { execInContainer } from '../../container/lifecycle.js';
import { SkiffError } from '../../errors.js';
import { passthrough, registerPassthrough } from '../argv.js';
import { saveCodeCache } from '../launcher.js';
import { list } from './run-options.js';
import { create, refuseTtyWithoutTerminal, run } from './run.js';

export { create, run };

registerPassthrough('exec', ['env', 'e', 'user', 'u', 'workdir', 'w', 'env-file', 'root', 'runroot']);
export const exec: CommandModule = {
  command: 'exec <container>',
  describe: 'Execute a command in a running container',
  builder: (y) =>
    y.usage('Usage: skiff exec [OPTIONS] CONTAINER COMMAND [ARG...]').positional('container', { type: 'string', demandOption: true })
      .option('interactive', { alias: 'i', type: 'boolean', default: false, describe: 'Keep STDIN open' })
      .option('tty', { alias: 't', type: 'boolean', default: false, describe: 'Allocate a pseudo-TTY' })
      .option('detach', { alias: 'd', type: 'boolean', default: false, hidden: true })
      .option('env', { alias: 'e', type: 'string', describe: 'Set environment variables' })
      .option('user', { alias: 'u', type: 'string', describe: 'Username or UID (format: <name|uid>[:<group|gid>])' })
      .option('workdir', { alias: 'w', type: 'string', describe: 'Working directory inside the container' })
      .option('privileged', { type: 'boolean', default: false, describe: 'Give extended privileges to the command' }),
  handler: async (a) => {
    const args = passthrough();
    if (!args.length) throw new SkiffError('EINVAL', "exec requires at least 2 arguments: 'skiff exec [OPTIONS] CONTAINER COMMAND [ARG...]'");
    if (a.tty && a.interactive && !a.detach) refuseTtyWithoutTerminal();
    await execInContainer(String(a.container), {
      args, tty: Boolean(a.tty), interactive: Boolean(a.interactive), env: list(a.env),
      user: a.user as string | undefined, workdir: a.workdir as string | undefined, privileged: Boolean(a.privileged),
    }, saveCodeCache);
  },
};
