/** `network disconnect`: detach a container from a network. */
import { defineCommand } from '../../command.js';
import { sweepNetworks } from '../../network-sweep.js';

export default defineCommand({
  group: 'network',
  name: 'disconnect',
  describe: 'Disconnect a container from a network',
  positionals: [{ name: 'network', required: true }, { name: 'container', required: true }],
  options: {
    force: { alias: 'f', type: 'boolean', default: false, describe: 'Force the container to disconnect from a network' },
  },
  netns: async (_o, a) => (await import('../../../network/rootless-netns.js')).namesUserNetwork([a.network]),
  handler: async (_o, a) => {
    const { disconnectNetwork } = await import('../../../container/network.js');
    await sweepNetworks();
    await disconnectNetwork(a.network, a.container);
  },
});
