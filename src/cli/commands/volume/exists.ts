/** Podman's `volume exists`: exit 0 if it does, 1 if not, nothing printed. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'volume',
  name: 'exists',
  describe: 'Check if a volume exists',
  usage: 'VOLUME',
  positionals: [{ name: 'volume', required: true }],
  options: {},
  handler: async (_o, { volume }) => ({ exitCode: (await import('../../../volume/volumes.js')).volumeExists(volume) ? 0 : 1 }),
});
