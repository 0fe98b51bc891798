/** `logout`: forget a registry's credentials. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'top',
  name: 'logout',
  describe: 'Log out from a registry',
  usage: '[SERVER]',
  positionals: [{ name: 'server' }],
  options: {},
  handler: async (_o, { server: given }) => {
    const { logout, normalizeServer } = await import('../../../registry/login.js');
    const server = normalizeServer(given);
    logout(server);
    return `Removing login credentials for ${server}\n`;
  },
});
