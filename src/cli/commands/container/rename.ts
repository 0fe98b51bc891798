/** `rename`: a container's name (the names index under its lock). */
import { renameContainerTo } from '../../../container/lifecycle.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'rename',
  aliases: ['rename'],
  describe: 'Rename a container',
  usage: 'CONTAINER NEW_NAME',
  positionals: [{ name: 'container', required: true }, { name: 'new-name', required: true }],
  options: {},
  handler: async (_o, args) => {
    await renameContainerTo(args.container, args['new-name']);
  },
});
