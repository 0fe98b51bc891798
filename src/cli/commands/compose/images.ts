/** `compose images [SERVICE...]`: the images of the project's containers (-q: their ids; --format table|json). */
import { defineCommand } from '../../command.js';
import { withProject } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'images',
  describe: 'List images used by the created containers',
  usage: '[OPTIONS] [SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {
    format: { type: 'string', choices: ['table', 'json'], default: 'table', describe: 'Format the output. Values: [table | json]' },
    quiet: { type: 'boolean', alias: 'q', default: false, describe: 'Only display IDs' },
  },
  handler: (o, { service }, ctx) =>
    withProject(ctx, async (project) => {
      const [{ serviceImages }, { renderTable }, { humanSize }] = await Promise.all([
        import('../../../compose/engine/verbs.js'), import('../../output/table.js'), import('../../../lib/units.js'),
      ]);
      const rows = await serviceImages(project, service);
      const hex = (id: string): string => id.replace(/^sha256:/, '');
      if (o.quiet) return [...new Set(rows.map((i) => hex(i.ID)))].map((id) => `${id}\n`).join('');
      if (o.format === 'json') return `${JSON.stringify(rows.map((i) => ({ ID: i.ID, ContainerName: i.Container, Repository: i.Repository, Tag: i.Tag, Size: i.Size })))}\n`;
      return renderTable(['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'], rows.map((i) => [i.Container, i.Repository, i.Tag, hex(i.ID).slice(0, 12), humanSize(i.Size)]));
    }),
});
