/** `history`: an image's layers and the steps that made them. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'image',
  name: 'history',
  aliases: ['history'],
  describe: 'Show the history of an image',
  positionals: [{ name: 'image', required: true }],
  options: {
    'no-trunc': { type: 'boolean', default: false, describe: "Don't truncate output" },
    quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Only show image IDs' },
    format: { type: 'string', describe: 'Format output using a Go template' },
    human: { alias: 'H', type: 'boolean', default: true, describe: 'Print sizes and dates in human readable format' },
  },
  handler: async (o, { image }) => {
    const [{ imageHistory }, { formatOutput }] = await Promise.all([import('../../../image/manage.js'), import('../../output/table.js')]);
    const rows = await imageHistory(image, o['no-trunc']);
    return formatOutput(rows, {
      format: o.format,
      quiet: o.quiet ? (r) => r.ID : undefined,
      defaultTable: [
        { header: 'IMAGE', field: (r) => r.ID },
        { header: 'CREATED', field: (r) => r.CreatedSince },
        { header: 'CREATED BY', field: (r) => r.CreatedBy },
        { header: 'SIZE', field: (r) => r.Size },
        { header: 'COMMENT', field: (r) => r.Comment },
      ],
      headerNames: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedBy: 'CREATED BY' },
    });
  },
});
