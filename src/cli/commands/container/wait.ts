/** `wait`: block until the containers stop; print each exit code. */
import { waitContainer } from '../../../container/lifecycle.js';
import { findContainer } from '../../../store/containers.js';
import { eachItem } from '../../batch.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'wait',
  aliases: ['wait'],
  describe: 'Block until one or more containers stop, then print their exit codes',
  positionals: [{ name: 'container', required: true, variadic: true }],
  options: {},
  handler: (_o, { container }) => ({ items: eachItem(container, async (ref) => String(await waitContainer(findContainer(ref)))) }),
});
