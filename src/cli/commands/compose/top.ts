/** `compose top [SERVICE...]`: the processes of each running container, Docker Compose's layout (name, table, blank line). */
import { defineCommand } from '../../command.js';
import { withProject } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'top',
  describe: 'Display the running processes',
  usage: '[SERVICES...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {},
  handler: (_o, { service }, ctx) =>
    withProject(ctx, async (project) => {
      const [{ topServices }, { tabwrite }] = await Promise.all([import('../../../compose/engine/verbs.js'), import('../../output/table.js')]);
      const tops = await topServices(project, service);
      return tops.map((t) => `${t.name}\n${tabwrite([t.titles, ...t.processes].map((row) => row.join('\t') + '\n').join(''), { minwidth: 20, padding: 3 })}\n`).join('');
    }),
});
