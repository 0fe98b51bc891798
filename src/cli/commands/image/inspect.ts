/** `image inspect`: Docker's JSON array, or --format per image. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'image',
  name: 'inspect',
  describe: 'Display detailed information on one or more images',
  positionals: [{ name: 'image', required: true, variadic: true }],
  options: {
    format: { alias: 'f', type: 'string', describe: 'Format output using a Go template' },
  },
  handler: async (o, { image }) => {
    const { inspected, inspectOne } = await import('../../inspect.js');
    return inspected(image, o.format, (ref) => inspectOne(ref, 'image'));
  },
});
