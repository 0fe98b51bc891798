/** `diff`: changes to files or directories on a container's filesystem (A added, C changed, D deleted). */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'diff',
  aliases: ['diff'],
  describe: "Inspect changes to files or directories on a container's filesystem",
  usage: 'CONTAINER',
  positionals: [{ name: 'container', required: true }],
  options: {},
  userns: true,
  handler: async (_o, { container }) => {
    const { containerChanges } = await import('../../../builder/changes.js');
    return containerChanges(container).map((c) => `${'CAD'[c.Kind]} ${c.Path}\n`).join('');
  },
});
