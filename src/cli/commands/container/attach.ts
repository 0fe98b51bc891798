/** `attach`: the container's streams through its monitor's attach socket; exits with the container's code. */
import { defineCommand } from '../../command.js';
import { DETACH_KEYS_OPTION } from '../run-options.js';

export default defineCommand({
  group: 'container',
  name: 'attach',
  aliases: ['attach'],
  describe: 'Attach local standard input, output, and error streams to a running container',
  positionals: [{ name: 'container', required: true }],
  options: {
    'no-stdin': { type: 'boolean', default: false, describe: 'Do not attach STDIN' },
    'sig-proxy': { type: 'boolean', default: true, describe: 'Proxy all received signals to the process' },
    'detach-keys': DETACH_KEYS_OPTION,
  },
  handler: async (o, { container }) => {
    const [{ attachContainer, DETACHED }, { findContainer }, { detachKeys }] = await Promise.all([import('../../../container/attach.js'), import('../../../store/containers.js'), import('../../client-config.js')]);
    const code = await attachContainer(findContainer(container), { stdin: !o['no-stdin'], sigProxy: o['sig-proxy'], detachKeys: detachKeys(o['detach-keys']) });
    // a detach: the container runs on; Docker's attach reports it as its error (plain words, 1)
    if (code === DETACHED) return { stderr: 'read escape sequence\n', exitCode: 1 };
    return { exitCode: code < 0 ? 255 : code };
  },
});
