/** `compose attach SERVICE`: the streams of a service's running container (as `skiff attach`; --index picks the replica). */
import { defineCommand } from '../../command.js';
import { composeExit, loadFromContext } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'attach',
  describe: "Attach local standard input, output, and error streams to a service's running container",
  usage: '[OPTIONS] SERVICE',
  positionals: [{ name: 'service', required: true }],
  options: {
    'detach-keys': { type: 'string', describe: 'Override the key sequence for detaching from a container.' },
    index: { type: 'int', default: 0, describe: 'index of the container if service has multiple replicas.' },
    'no-stdin': { type: 'boolean', default: false, describe: 'Do not attach STDIN' },
    'sig-proxy': { type: 'boolean', default: true, describe: 'Proxy all received signals to the process' },
  },
  handler: (o, { service }, ctx) =>
    composeExit(async () => {
      const project = await loadFromContext(ctx);
      const [{ serviceTargets }, { attachContainer, DETACHED }] = await Promise.all([import('../../../compose/engine/access.js'), import('../../../container/attach.js')]);
      const [rec] = await serviceTargets(project, service, { index: o.index, running: true });
      const code = await attachContainer(rec!, { stdin: !o['no-stdin'], sigProxy: o['sig-proxy'], ...(o['detach-keys'] ? { detachKeys: o['detach-keys'] } : {}) });
      return { exitCode: code === DETACHED ? 0 : code < 0 ? 255 : code };
    }),
});
