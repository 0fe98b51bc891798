/** `compose ls`: the projects found in the store (their containers' com.docker.compose.* labels); needs no compose file. */
import { defineCommand } from '../../command.js';
import { composeExit } from './project.js';

export default defineCommand({
  group: 'compose',
  name: 'ls',
  describe: 'List running compose projects',
  usage: '[OPTIONS]',
  positionals: [],
  options: {
    all: { type: 'boolean', alias: 'a', default: false, describe: 'Show all stopped Compose projects' },
    filter: { type: 'string', repeat: true, describe: 'Filter output based on conditions provided' },
    format: { type: 'string', default: 'table', describe: 'Format the output. Values: [table | json]' },
    quiet: { type: 'boolean', alias: 'q', default: false, describe: 'Only display project names' },
  },
  handler: (o) =>
    composeExit(async () => {
      const [{ listProjects }, { formatOutput }, { SkiffError }] = await Promise.all([import('../../../compose/engine/verbs.js'), import('../../output/table.js'), import('../../../errors.js')]);
      const names: string[] = [];
      for (const f of o.filter) {
        const m = /^name=(.*)$/.exec(f);
        if (!m) throw new SkiffError('EINVAL', `invalid filter ${JSON.stringify(f)}: only name= is supported`, 1);
        names.push(m[1]!);
      }
      const list = (await listProjects())
        .filter((p) => o.all || p.running)
        .filter((p) => names.length === 0 || names.some((n) => p.Name.includes(n)))
        .map(({ Name, Status, ConfigFiles }) => ({ Name, Status, ConfigFiles }));
      if (o.quiet) return list.map((p) => `${p.Name}\n`).join('');
      if (o.format === 'json') return `${JSON.stringify(list)}\n`;
      type Item = (typeof list)[number];
      const col = (header: string, field: (i: Item) => string) => ({ header, field });
      return formatOutput(list, {
        format: o.format,
        defaultTable: [col('NAME', (i) => i.Name), col('STATUS', (i) => i.Status), col('CONFIG FILES', (i) => i.ConfigFiles)],
        headerNames: { Name: 'NAME', Status: 'STATUS', ConfigFiles: 'CONFIG FILES' },
      });
    }),
});
