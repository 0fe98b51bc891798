/** `inspect`: containers, images, networks or volumes by name or id (--type picks one kind). */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'top',
  name: 'inspect',
  describe: 'Display detailed information on one or more objects',
  usage: '[OPTIONS] NAME|ID [NAME|ID...]',
  positionals: [{ name: 'name', required: true, variadic: true }],
  options: {
    format: { alias: 'f', type: 'string', describe: 'Format output using a Go template' },
    type: { type: 'string', choices: ['container', 'image', 'network', 'volume'], describe: 'Only inspect objects of the given type' },
    size: { alias: 's', type: 'boolean', default: false, describe: 'Display total file sizes (SizeRw, SizeRootFs)' },
  },
  handler: async (o, { name }) => {
    const { inspected, inspectOne } = await import('../../inspect.js');
    const kind = o.type ?? 'any';
    return inspected(name, o.format, (ref) => inspectOne(ref, kind, { size: o.size }));
  },
});
