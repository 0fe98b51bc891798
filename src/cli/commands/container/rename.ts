/** `rename`: a container's new name. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'rename',
  aliases: ['rename'],
  describe: 'Rename a container',
  positionals: [{ name: 'container', required: true }, { name: 'new-name', required: true }],
  options: {},
  handler: async (_o, a) => {
    await (await import('../../../container/lifecycle.js')).renameContainerTo(a.container, a['new-name']);
  },
});
