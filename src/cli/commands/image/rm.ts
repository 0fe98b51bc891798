/** `rmi` / `image rm`: untag, and delete what no name holds any more. */
import { eachItem } from '../../batch.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'image',
  name: 'rm',
  aliases: ['image remove', 'rmi'],
  describe: 'Remove one or more images',
  positionals: [{ name: 'image', required: true, variadic: true }],
  options: {
    force: { alias: 'f', type: 'boolean', default: false, describe: 'Force removal of the image' },
  },
  userns: true,
  handler: async (o, { image }) => {
    const { removeImage } = await import('../../../image/manage.js');
    return {
      items: eachItem(image, async (ref) => {
        const r = await removeImage(ref, o.force);
        return [...r.untagged.map((u) => `Untagged: ${u}`), ...r.deleted.map((d) => `Deleted: ${d}`)].join('\n');
      }),
    };
  },
});
