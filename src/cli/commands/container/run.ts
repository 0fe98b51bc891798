/** `run`: create a container and start it (foreground: this process becomes the shim; -d: print the id). */
import { createContainer } from '../../../container/create.js';
import { runCreated } from '../../../container/lifecycle.js';
import { defineCommand } from '../../command.js';
import { pullToStderr } from '../../pull.js';
import { CREATE_POSITIONALS, CREATE_USAGE, RUN_OPTIONS, toCreateOptions } from '../../options/create.js';
import { refuseTtyWithoutTerminal } from '../../terminal.js';

export default defineCommand({
  group: 'container',
  name: 'run',
  aliases: ['run'],
  describe: 'Create and run a new container from an image',
  usage: CREATE_USAGE,
  positionals: CREATE_POSITIONALS,
  options: RUN_OPTIONS,
  passthrough: true,
  codeCache: true,
  handler: async (o, { image, command }, ctx) => {
    if (o.tty && o.interactive && !o.detach) refuseTtyWithoutTerminal();
    const rec = await createContainer(toCreateOptions(o, image, command), pullToStderr);
    await runCreated(rec, o.detach, ctx.beforeExecve);
    if (o.detach) return `${rec.Id}\n`;
  },
});
