/** `version`: the client's version lines (`skiff --version` is answered by the launcher). */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'top',
  name: 'version',
  describe: 'Show the skiff version information',
  positionals: [],
  options: {},
  handler: async () => {
    const { goArch, skiffVersion } = await import('../../../lib/version.js');
    return `Client: skiff\n Version:    ${skiffVersion()}\n Node:       ${process.version}\n OS/Arch:    linux/${goArch()}\n`;
  },
});
