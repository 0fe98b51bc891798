/** `volume rm`: remove volumes no container uses (-f: those of stopped containers too). */
import { eachItem } from '../../batch.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'volume',
  name: 'rm',
  aliases: ['volume remove'],
  describe: 'Remove one or more volumes',
  positionals: [{ name: 'volume', required: true, variadic: true }],
  options: {
    force: { alias: 'f', type: 'boolean', default: false, describe: 'Force the removal of one or more volumes' },
  },
  userns: true,
  handler: async (o, { volume }) => {
    const [{ removeVolume }, { containerState }] = await Promise.all([import('../../../volume/volumes.js'), import('../../../container/state.js')]);
    return {
      items: eachItem(volume, async (name) => {
        await removeVolume(name, o.force, (c) => containerState(c).Running);
        return name;
      }),
    };
  },
});
