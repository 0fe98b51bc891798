/**
 * `system autostart`: start the containers Docker's daemon would restart at its start (restart policy
 * always, or unless-stopped not stopped by the user). What skiff-restart.service runs at boot.
 */
import { eachContainer } from '../../batch.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'system',
  name: 'autostart',
  describe: 'Start the containers a Docker daemon restarts at boot',
  positionals: [],
  options: {},
  netns: async () => {
    const [{ autostartContainers }, { onUserNetworks }] = await Promise.all([import('../../../container/autostart.js'), import('../../../network/rootless-netns.js')]);
    return onUserNetworks(autostartContainers());
  },
  handler: async () => {
    const [{ autostartContainers }, { startDetached }] = await Promise.all([import('../../../container/autostart.js'), import('../../../container/lifecycle.js')]);
    const { findContainer } = await import('../../../store/containers.js');
    // one line a container, its name (the ids are what the store knows it by)
    return { items: eachContainer(autostartContainers().map((id) => findContainer(id).Name), startDetached) };
  },
});
