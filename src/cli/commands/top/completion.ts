/** `completion`: the shell completion script for bash, zsh or fish (Docker's `docker completion`). */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'top',
  name: 'completion',
  describe: 'Generate the autocompletion script for the specified shell',
  usage: 'bash|zsh|fish',
  positionals: [{ name: 'shell', required: true }],
  options: {},
  handler: async (_o, { shell }) => {
    const { completionScript, SHELLS } = await import('../../completion-scripts.js');
    const { SkiffError } = await import('../../../errors.js');
    if (!(SHELLS as readonly string[]).includes(shell)) throw new SkiffError('EINVAL', `unsupported shell type "${shell}": choose bash, zsh or fish`, 1);
    return completionScript(shell as (typeof SHELLS)[number]);
  },
});
