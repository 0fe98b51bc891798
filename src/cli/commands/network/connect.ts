/** `network connect`: attach a container to another network. */
import { defineCommand } from '../../command.js';
import { sweepNetworks } from '../../network-sweep.js';

export default defineCommand({
  group: 'network',
  name: 'connect',
  describe: 'Connect a container to a network',
  positionals: [{ name: 'network', required: true }, { name: 'container', required: true }],
  options: {
    alias: { type: 'string', repeat: true, describe: 'Add network-scoped alias for the container' },
    ip: { type: 'string', describe: 'IPv4 address (e.g., 172.30.100.104)' },
  },
  netns: async (_o, a) => (await import('../../../network/rootless-netns.js')).namesUserNetwork([a.network]),
  handler: async (o, a) => {
    const { connectNetwork } = await import('../../../container/network.js');
    await sweepNetworks();
    await connectNetwork(a.network, a.container, { aliases: o.alias, ...(o.ip !== undefined ? { ip: o.ip } : {}) });
  },
});
