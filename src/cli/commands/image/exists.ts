/** Podman's `image exists`: exit 0 if it does, 1 if not, nothing printed. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'image',
  name: 'exists',
  describe: 'Check if an image exists in local storage (Podman)',
  usage: 'IMAGE',
  positionals: [{ name: 'image', required: true }],
  options: {},
  handler: async (_o, { image }) => ({ exitCode: (await (await import('../../../image/local.js')).findImage(image)) ? 0 : 1 }),
});
