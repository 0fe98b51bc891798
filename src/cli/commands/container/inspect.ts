/** `container inspect`: Docker's JSON array, or --format per container. */
import { defineCommand } from '../../command.js';
import { latestOption, targets } from '../../targets.js';

export default defineCommand({
  group: 'container',
  name: 'inspect',
  describe: 'Display detailed information on one or more containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: [{ name: 'container', variadic: true }],
  options: {
    latest: latestOption(),
    format: { alias: 'f', type: 'string', describe: 'Format output using a Go template' },
    size: { alias: 's', type: 'boolean', default: false, describe: 'Display total file sizes (SizeRw, SizeRootFs)' },
  },
  handler: async (o, { container }, ctx) => {
    const refs = await targets(o, container, ctx.invokedAs);
    const { inspected, inspectOne } = await import('../../inspect.js');
    return inspected(refs, o.format, (ref) => inspectOne(ref, 'container', { size: o.size }));
  },
});
