/** `tag`: another name for an image. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'image',
  name: 'tag',
  aliases: ['tag'],
  describe: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  positionals: [{ name: 'source', required: true }, { name: 'target', required: true }],
  options: {},
  handler: async (_o, a) => {
    await (await import('../../../image/manage.js')).tagImage(a.source, a.target);
  },
});
