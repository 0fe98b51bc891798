/** `pull`: an image (or every tag, -a) from a registry; on the start-up critical path: domain modules load on use. */
import { defineCommand } from '../../command.js';
import { PULL_OPTIONS } from '../pull-options.js';

export default defineCommand({
  group: 'image',
  name: 'pull',
  aliases: ['pull'],
  describe: 'Download an image from a registry',
  usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
  positionals: [{ name: 'image', required: true }],
  options: PULL_OPTIONS,
  userns: true,
  codeCache: true,
  handler: async (o, { image }) => {
    const [{ createProgress }, pull] = await Promise.all([import('../../output/progress.js'), import('../../../image/pull.js')]);
    const progress = createProgress(process.stdout, { quiet: o.quiet });
    const p = { platform: o.platform, progress, tlsVerify: o['tls-verify'] };
    if (o['all-tags']) return `${(await pull.pullAllTags(image, p)).repository}\n`;
    await pull.pullImage(image, p);
    const { canonical, parseReference, repoName } = await import('../../../oci/reference.js');
    const ref = parseReference(image);
    return `${ref.digest ? `${repoName(ref)}@${ref.digest}` : canonical(ref)}\n`;
  },
});
