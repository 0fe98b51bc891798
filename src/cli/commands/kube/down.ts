/** `kube down`: removes what `kube play` of the file made (its pods' containers and own volumes; claims' volumes with --force). */
import { defineCommand } from '../../command.js';
import { kubeReporter, readPlan } from './file.js';

export default defineCommand({
  group: 'kube',
  name: 'down',
  describe: 'Remove pods based on Kubernetes YAML',
  usage: '[OPTIONS] KUBEFILE|-',
  positionals: [{ name: 'file', required: true }],
  options: {
    force: { type: 'boolean', default: false, describe: 'Also remove the volumes of the PersistentVolumeClaims' },
  },
  userns: true,
  handler: async (o, { file }, ctx) => {
    const { plan } = await readPlan(file, ctx);
    const { downPlan } = await import('../../../kube/engine.js');
    const gone = await downPlan(plan, { force: o.force }, kubeReporter(ctx));
    return gone.length ? `Pods stopped and removed:\n${gone.join('\n')}\n` : '';
  },
});
