/** `compose config`: the normalised project (YAML or JSON), or one of its lists; -q only validates. */
import fs from 'node:fs';
import { defineCommand } from '../../command.js';
import { composeExit, loadFromContext } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'config',
  aliases: ['compose convert'],
  describe: 'Parse, resolve and render compose file in canonical format',
  usage: '[OPTIONS] [SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {
    format: { type: 'string', choices: ['yaml', 'json'], default: 'yaml', describe: 'Format the output. Values: [yaml | json]' },
    quiet: { type: 'boolean', alias: 'q', default: false, describe: 'Only validate the configuration, don\'t print anything' },
    services: { type: 'boolean', default: false, describe: 'Print the service names, one per line.' },
    volumes: { type: 'boolean', default: false, describe: 'Print the volume names, one per line.' },
    profiles: { type: 'boolean', default: false, describe: 'Print the profile names, one per line.' },
    images: { type: 'boolean', default: false, describe: 'Print the image names, one per line.' },
    hash: { type: 'string', describe: 'Print the service config hash, one per line.' },
    output: { type: 'string', alias: 'o', describe: 'Save to file (default to stdout)' },
  },
  handler: (o, { service }, ctx) =>
    composeExit(async () => {
      const project = await loadFromContext(ctx);
      const c = await import('../../../compose/index.js');
      if (o.quiet) return;
      let out: string;
      if (o.services) out = lines(c.serviceNames(project));
      else if (o.volumes) out = lines(c.volumeNames(project));
      else if (o.profiles) out = lines(c.profileNames(project));
      else if (o.images) out = lines(c.imageNames(project));
      else if (o.hash !== undefined) {
        const { selectServices } = await import('../../../compose/engine/plan.js');
        const names = o.hash === '*' ? Object.keys(project.services).sort() : selectServices(project, o.hash.split(','), true);
        out = names.map((n) => `${n} ${c.serviceConfigHash(project.services[n]!)}\n`).join('');
      } else {
        if (service.length) {
          const { selectServices } = await import('../../../compose/engine/plan.js');
          const keep = new Set(selectServices(project, service));
          for (const n of Object.keys(project.services)) if (!keep.has(n)) delete project.services[n];
        }
        out = o.format === 'json' ? c.configJson(project) : c.configYaml(project);
      }
      if (o.output) {
        fs.writeFileSync(o.output, out);
        return;
      }
      return out;
    }),
});

function lines(list: string[]): string {
  return list.map((s) => `${s}\n`).join('');
}
