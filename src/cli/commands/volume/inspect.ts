/** `volume inspect`: Docker's JSON array, or --format per volume. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'volume',
  name: 'inspect',
  describe: 'Display detailed information on one or more volumes',
  positionals: [{ name: 'volume', required: true, variadic: true }],
  options: {
    format: { alias: 'f', type: 'string', describe: 'Format output using a Go template' },
  },
  handler: async (o, { volume }) => {
    const [{ inspected }, { findVolume }] = await Promise.all([import('../../inspect.js'), import('../../../volume/volumes.js')]);
    return inspected(volume, o.format, findVolume);
  },
});
