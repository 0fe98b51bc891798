/** `volume create`: a named (or anonymous) local volume. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'volume',
  name: 'create',
  describe: 'Create a volume',
  usage: '[OPTIONS] [VOLUME]',
  positionals: [{ name: 'name' }],
  options: {
    driver: { alias: 'd', type: 'string', default: 'local', describe: 'Specify volume driver name' },
    label: { alias: 'l', type: 'string', repeat: true, describe: 'Set metadata for a volume' },
    opt: { alias: 'o', type: 'string', repeat: true, describe: 'Set driver specific options (type=tmpfs|none, o=, device=, size=)' },
  },
  handler: async (o, { name }) => {
    const [v, { parseLabels }] = await Promise.all([import('../../../volume/volumes.js'), import('../../../container/options.js')]);
    const r = await v.createVolume(name, { driver: o.driver, labels: parseLabels(o.label), options: v.parseVolumeOptions(o.opt) });
    return `${r.name}\n`;
  },
});
