/** `attach`: the container's streams through its monitor's attach socket; exits with the container's code. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'attach',
  aliases: ['attach'],
  describe: 'Attach local standard input, output, and error streams to a running container',
  positionals: [{ name: 'container', required: true }],
  options: {
    'no-stdin': { type: 'boolean', default: false, describe: 'Do not attach STDIN' },
    'sig-proxy': { type: 'boolean', default: true, describe: 'Proxy all received signals to the process' },
    'detach-keys': { type: 'string', describe: 'Override the key sequence for detaching a container (default: detachKeys of config.json, else "ctrl-p,ctrl-q")' },
  },
  handler: async (o, { container }) => {
    const [{ attachContainer }, { findContainer }, { clientConfig }] = await Promise.all([import('../../../container/attach.js'), import('../../../store/containers.js'), import('../../client-config.js')]);
    const detachKeys = o['detach-keys'] || clientConfig().detachKeys;
    const code = await attachContainer(findContainer(container), {
      stdin: !o['no-stdin'],
      sigProxy: o['sig-proxy'],
      ...(detachKeys ? { detachKeys } : {}),
    });
    return { exitCode: code < 0 ? 255 : code };
  },
});
