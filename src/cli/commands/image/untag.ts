/** Podman's `untag`: remove names from an image (all of them when none is given); the image stays. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'image',
  name: 'untag',
  aliases: ['untag'],
  describe: 'Remove a name from a local image (Podman)',
  usage: 'IMAGE [IMAGE...]',
  positionals: [{ name: 'image', required: true }, { name: 'names', variadic: true }],
  options: {},
  handler: async (_o, { image, names }) => {
    await (await import('../../../image/manage.js')).untagImage(image, names);
  },
});
