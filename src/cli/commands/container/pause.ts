/** `pause`: the kernel's freezer on the containers' cgroups. */
import { pauseContainer } from '../../../container/lifecycle.js';
import { eachContainer } from '../../batch.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'pause',
  aliases: ['pause'],
  describe: 'Pause all processes within one or more containers',
  positionals: [{ name: 'container', required: true, variadic: true }],
  options: {},
  handler: (_o, { container }) => ({ items: eachContainer(container, pauseContainer) }),
});
