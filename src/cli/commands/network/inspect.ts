/** `network inspect`: Docker's JSON array, or --format per network. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'network',
  name: 'inspect',
  describe: 'Display detailed information on one or more networks',
  positionals: [{ name: 'network', required: true, variadic: true }],
  options: {
    format: { alias: 'f', type: 'string', describe: 'Format output using a Go template' },
  },
  handler: async (o, { network }) => {
    const [{ inspected }, { findView, inspectNetwork }] = await Promise.all([import('../../inspect.js'), import('../../../network/manage.js')]);
    return inspected(network, o.format, (ref) => inspectNetwork(findView(ref)));
  },
});
