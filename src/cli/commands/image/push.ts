/** `push`: an image to its registry. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'image',
  name: 'push',
  aliases: ['push'],
  describe: 'Upload an image to a registry',
  usage: '[OPTIONS] NAME[:TAG]',
  positionals: [{ name: 'image', required: true }],
  options: {
    quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Suppress verbose output' },
    'tls-verify': { type: 'boolean', default: true, describe: 'Require HTTPS and verify certificates' },
  },
  userns: true,
  handler: async (o, { image }) => {
    const [{ pushImage }, { createProgress }] = await Promise.all([import('../../../image/push.js'), import('../../output/progress.js')]);
    await pushImage(image, { tlsVerify: o['tls-verify'], progress: createProgress(process.stdout, { quiet: o.quiet }) });
    if (o.quiet) {
      const { canonical, parseReference } = await import('../../../oci/reference.js');
      return `${canonical(parseReference(image))}\n`;
    }
  },
});
