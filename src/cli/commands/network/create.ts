/** `network create`: a bridge network (one IPv4 subnet). */
import { SkiffError } from '../../../errors.js';
import { defineCommand } from '../../command.js';
import { sweepNetworks } from '../../network-sweep.js';

export default defineCommand({
  group: 'network',
  name: 'create',
  describe: 'Create a network',
  positionals: [{ name: 'name', required: true }],
  options: {
    driver: { alias: 'd', type: 'string', default: 'bridge', describe: 'Driver to manage the Network' },
    subnet: { type: 'string', repeat: true, describe: 'Subnet in CIDR format that represents a network segment' },
    gateway: { type: 'string', repeat: true, describe: 'IPv4 Gateway for the master subnet' },
    'ip-range': { type: 'string', repeat: true, describe: 'Allocate container ip from a sub-range' },
    internal: { type: 'boolean', default: false, describe: 'Restrict external access to the network' },
    label: { type: 'string', repeat: true, describe: 'Set metadata on a network' },
    opt: { alias: 'o', type: 'string', repeat: true, describe: 'Set driver specific options' },
    attachable: { type: 'boolean', default: false, describe: 'Enable manual container attachment' },
  },
  handler: async (o, { name }) => {
    const one = (k: 'subnet' | 'gateway' | 'ip-range'): string | undefined => {
      const v = o[k];
      if (v.length > 1) throw new SkiffError('EINVAL', `--${k}: one value only (skiff networks have one IPv4 subnet)`);
      return v[0];
    };
    const [subnet, gateway, ipRange] = [one('subnet'), one('gateway'), one('ip-range')];
    const [{ createNetwork }, { parseLabels }] = await Promise.all([import('../../../network/store.js'), import('../../../container/options.js')]);
    await sweepNetworks();
    const rec = await createNetwork({
      name,
      driver: o.driver,
      ...(subnet !== undefined ? { subnet } : {}),
      ...(gateway !== undefined ? { gateway } : {}),
      ...(ipRange !== undefined ? { ipRange } : {}),
      internal: o.internal,
      labels: parseLabels(o.label),
      options: parseLabels(o.opt),
    });
    return `${rec.Id}\n`;
  },
});
