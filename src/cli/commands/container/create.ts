/** `create`: a container from an image, not started; prints its id. */
import { defineCommand } from '../../command.js';
import { CREATE_OPTIONS, toCreateOptions, warnLine } from '../run-options.js';

export default defineCommand({
  group: 'container',
  name: 'create',
  aliases: ['create'],
  describe: 'Create a new container',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  positionals: [{ name: 'image', required: true }, { name: 'command', variadic: true }],
  options: CREATE_OPTIONS,
  passthrough: true,
  codeCache: true,
  handler: async (o, { image, command }, ctx) => {
    const [{ createContainer }, { pullToStderr }, { withCidFile }] = await Promise.all([import('../../../container/create.js'), import('../../pull.js'), import('../../cidfile.js')]);
    const rec = await withCidFile(o.cidfile, () => createContainer(toCreateOptions({ ...o, image }, command, ctx.argv), pullToStderr, { warn: warnLine }));
    return rec.Id + '\n';
  },
});
