/** `compose version`: the Docker Compose release whose behaviour skiff's compose follows (what scripts check), and skiff's own. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'compose',
  name: 'version',
  describe: 'Show the Docker Compose version information',
  usage: '[OPTIONS]',
  positionals: [],
  options: {
    format: { type: 'string', alias: 'f', choices: ['pretty', 'json'], default: 'pretty', describe: 'Format the output. Values: [pretty | json]' },
    short: { type: 'boolean', default: false, describe: 'Shows only Compose\'s version number' },
  },
  handler: async (o) => {
    const [{ COMPOSE_VERSION }, { skiffVersion }] = await Promise.all([import('../../../compose/engine/labels.js'), import('../../../lib/version.js')]);
    if (o.short) return `${COMPOSE_VERSION}\n`;
    if (o.format === 'json') return `${JSON.stringify({ version: `v${COMPOSE_VERSION}` })}\n`;
    return `Docker Compose version v${COMPOSE_VERSION} (skiff ${skiffVersion()})\n`;
  },
});
