/**
 * `kube play`: runs the Pods, Deployments, PersistentVolumeClaims, ConfigMaps, Secrets and Services of a
 * Kubernetes YAML file with skiff's containers and volumes (src/kube/engine.ts); `--down` removes them.
 */
import { defineCommand } from '../../command.js';
import { kubeReporter, readPlan } from './file.js';

export default defineCommand({
  group: 'kube',
  name: 'play',
  aliases: ['play kube'],
  describe: 'Play a pod or volume based on Kubernetes YAML',
  usage: '[OPTIONS] KUBEFILE|-',
  positionals: [{ name: 'file', required: true }],
  options: {
    replace: { type: 'boolean', default: false, describe: 'Delete and recreate pods defined in the YAML file' },
    down: { type: 'boolean', default: false, describe: 'Stop pods defined in the YAML file and remove them' },
    force: { type: 'boolean', default: false, describe: 'With --down: also remove the volumes of the PersistentVolumeClaims' },
    'publish-all': { type: 'boolean', default: false, describe: 'Publish every containerPort on the same host port' },
    configmap: { type: 'string', repeat: true, describe: 'Files with ConfigMaps the YAML file uses' },
    quiet: { type: 'boolean', alias: 'q', default: false, describe: 'Suppress progress information' },
  },
  userns: true,
  handler: async (o, { file }, ctx) => {
    const { SkiffError } = await import('../../../errors.js');
    const { formatWarning } = await import('../../../kube/index.js');
    if (o.force && !o.down) throw new SkiffError('EINVAL', '--force is only used with --down');
    const { plan, file: abs } = await readPlan(file, ctx, { publishAll: o['publish-all'], configMaps: o.configmap });
    const r = kubeReporter(ctx, o.quiet);
    const engine = await import('../../../kube/engine.js');
    if (o.down) {
      const gone = await engine.downPlan(plan, { force: o.force }, r);
      return gone.length ? `Pods stopped and removed:\n${gone.join('\n')}\n` : '';
    }
    for (const w of plan.warnings) r.warn(formatWarning(w));
    const { quietPull } = await import('../compose/project.js');
    const res = await engine.playPlan(plan, { replace: o.replace, file: abs, pull: quietPull }, r);
    return res.pods.length ? `Pods:\n${res.pods.join('\n')}\n` : plan.volumes.length ? `Volumes:\n${plan.volumes.map((v) => v.name).join('\n')}\n` : '';
  },
});
