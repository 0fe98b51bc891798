/** `create`: a container from an image, not started; prints its id. */
import { createContainer } from '../../../container/create.js';
import { defineCommand } from '../../command.js';
import { pullToStderr } from '../../pull.js';
import { CREATE_OPTIONS, CREATE_POSITIONALS, CREATE_USAGE, toCreateOptions } from '../../options/create.js';

export default defineCommand({
  group: 'container',
  name: 'create',
  aliases: ['create'],
  describe: 'Create a new container',
  usage: CREATE_USAGE,
  positionals: CREATE_POSITIONALS,
  options: CREATE_OPTIONS,
  passthrough: true,
  codeCache: true,
  handler: async (o, { image, command }) => `${(await createContainer(toCreateOptions(o, image, command), pullToStderr)).Id}\n`,
});
