/** `rm`: remove containers (-f: kill a running one first). */
import { removeContainer } from '../../../container/lifecycle.js';
import { eachItem } from '../../batch.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'rm',
  aliases: ['container remove', 'rm'],
  describe: 'Remove one or more containers',
  positionals: [{ name: 'container', required: true, variadic: true }],
  options: {
    force: { alias: 'f', type: 'boolean', default: false, describe: 'Force the removal of a running container (uses SIGKILL)' },
    volumes: { alias: 'v', type: 'boolean', default: false, describe: 'Remove anonymous volumes (accepted)' },
  },
  userns: true,
  handler: (o, { container }) => ({
    items: eachItem(container, async (ref) => {
      await removeContainer(ref, { force: o.force });
      return ref;
    }),
  }),
});
