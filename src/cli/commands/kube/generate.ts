/**
 * `kube generate`: Kubernetes YAML (validated against Kubernetes' schemas) for containers, or with
 * `--compose` for a compose project's services. Podman's `kube generate` (and its older `generate kube`).
 */
import fs from 'node:fs';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'kube',
  name: 'generate',
  aliases: ['generate kube'],
  describe: 'Generate Kubernetes YAML based on containers or a compose project',
  usage: '[OPTIONS] CONTAINER... | --compose [SERVICE...]',
  positionals: [{ name: 'container', variadic: true }],
  options: {
    type: { type: 'string', alias: 't', choices: ['pod', 'deployment'], default: 'pod', describe: 'Generate YAML for the given Kubernetes kind ("pod"|"deployment")' },
    service: { type: 'boolean', alias: 's', default: false, describe: 'Generate a Kubernetes service object instead of host ports' },
    replicas: { type: 'int', alias: 'r', describe: 'Set the replica number for Deployment kind' },
    filename: { type: 'string', alias: 'f', describe: 'Write output to the specified path' },
    compose: { type: 'boolean', default: false, describe: 'Generate for the services of the compose project in the current directory (the arguments name services)' },
    'compose-file': { type: 'string', repeat: true, describe: 'Compose configuration files (with --compose)' },
    'project-name': { type: 'string', alias: 'p', describe: 'Compose project name (with --compose)' },
  },
  handler: async (o, { container }, ctx) => {
    const { SkiffError } = await import('../../../errors.js');
    const kube = await import('../../../kube/index.js');
    if (o.replicas !== undefined && o.type !== 'deployment') throw new SkiffError('EINVAL', '--replicas is only used with --type deployment');
    if (o.replicas !== undefined && o.replicas < 0) throw new SkiffError('EINVAL', `--replicas must be 0 or more, not ${o.replicas}`);
    const opts = { type: o.type, service: o.service, ...(o.replicas !== undefined ? { replicas: o.replicas } : {}) };
    let result;
    if (o.compose) {
      const { loadProject } = await import('../../../compose/index.js');
      const project = loadProject({ files: o['compose-file'], ...(o['project-name'] ? { projectName: o['project-name'] } : {}), envFiles: [], profiles: [] });
      for (const w of project.warnings) ctx.stderr.write(`WARN[0000] ${w.message}\n`);
      for (const s of container) if (!project.services[s]) throw new SkiffError('EINVAL', `no such service: ${s}`);
      result = kube.generateFromCompose(project, { ...opts, services: container });
    } else {
      if (container.length === 0) throw new SkiffError('EINVAL', `"${ctx.invokedAs}" requires at least 1 argument (a container), or --compose`, 125);
      const { findContainer } = await import('../../../store/containers.js');
      const { findImage, readImageConfig } = await import('../../../image/local.js');
      const inputs = [];
      for (const ref of container) {
        let record: import('../../../kube/index.js').DockerRecord;
        try {
          record = findContainer(ref) as import('../../../kube/index.js').DockerRecord;
        } catch (e) {
          // podman's kube generate exits 125 here (Docker's `No such container` of inspect is 1)
          throw e instanceof SkiffError ? new SkiffError(e.code, `${ref} does not refer to a container: ${e.message}`) : e;
        }
        const img = await findImage(record.Image);
        const cfg = img ? (await readImageConfig(img)).config : undefined;
        inputs.push({ record, ...(cfg ? { image: cfg as import('../../../kube/index.js').ImageDefaults } : {}) });
      }
      result = kube.generateFromContainers(inputs, opts);
    }
    const stderr = result.warnings.map((w) => `WARN[0000] ${kube.formatWarning(w)}\n`).join('');
    if (o.filename) {
      try {
        fs.writeFileSync(o.filename, result.yaml, { flag: 'wx' });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        throw new SkiffError('EINVAL', err.code === 'EEXIST' ? `cannot write to ${JSON.stringify(o.filename)}: file already exists` : `cannot write ${o.filename}: ${err.message}`);
      }
      return { stderr, stdout: '' };
    }
    return { stderr, stdout: result.yaml };
  },
});
