/** Podman's `container exists`: exit 0 if it does, 1 if not, nothing printed. */
import { SkiffError } from '../../../errors.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'exists',
  describe: 'Check if a container exists in local storage',
  usage: 'CONTAINER',
  positionals: [{ name: 'container', required: true }],
  options: {},
  handler: async (_o, { container }) => {
    const { findContainer } = await import('../../../store/containers.js');
    try {
      findContainer(container);
      return { exitCode: 0 };
    } catch (e) {
      if (e instanceof SkiffError && e.code === 'ENOCONTAINER') return { exitCode: 1 };
      throw e;
    }
  },
});
