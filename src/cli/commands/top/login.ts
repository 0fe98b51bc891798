/** `login`: credentials for a registry (checked against it), kept in the Docker config's auths. */
import fs from 'node:fs';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'top',
  name: 'login',
  describe: 'Log in to a registry',
  usage: '[OPTIONS] [SERVER]',
  positionals: [{ name: 'server' }],
  options: {
    username: { alias: 'u', type: 'string', describe: 'Username' },
    password: { alias: 'p', type: 'string', describe: 'Password' },
    'password-stdin': { type: 'boolean', default: false, describe: 'Take the password from stdin' },
    'tls-verify': { type: 'boolean', default: true, describe: 'Require HTTPS and verify certificates' },
  },
  handler: async (o, { server: given }, ctx) => {
    const { login, normalizeServer } = await import('../../../registry/login.js');
    const server = normalizeServer(given);
    let password = o.password ?? '';
    if (o['password-stdin']) password = fs.readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    else if (password) ctx.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    await login(server, o.username ?? '', password, o['tls-verify']);
    return 'Login Succeeded\n';
  },
});
