/** `container inspect`: Docker's JSON array, or --format per container. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'inspect',
  describe: 'Display detailed information on one or more containers',
  positionals: [{ name: 'container', required: true, variadic: true }],
  options: {
    format: { alias: 'f', type: 'string', describe: 'Format output using a Go template' },
    size: { alias: 's', type: 'boolean', default: false, describe: 'Display total file sizes (SizeRw, SizeRootFs)' },
  },
  handler: async (o, { container }) => {
    const { inspected, inspectOne } = await import('../../inspect.js');
    return inspected(container, o.format, (ref) => inspectOne(ref, 'container', { size: o.size }));
  },
});
