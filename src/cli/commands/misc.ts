/** login, logout, version. */
import fs from 'node:fs';
import type { CommandModule } from 'yargs';
import { goArch, skiffVersion } from '../../lib/version.js';
/** The registry client, evaluated only by login/logout. */
const loginMod = () => import('../../registry/login.js');

export const loginCmd: CommandModule = {
  command: 'login [server]',
  describe: 'Log in to a registry',
  builder: (y) =>
    y.positional('server', { type: 'string' }).option('username', { alias: 'u', type: 'string', describe: 'Username' })
      .option('password', { alias: 'p', type: 'string', describe: 'Password' })
      .option('password-stdin', { type: 'boolean', default: false, describe: 'Take the password from stdin' })
      .option('tls-verify', { type: 'boolean', default: true, describe: 'Require HTTPS and verify certificates' }),
  handler: async (a) => {
    const { login, normalizeServer } = await loginMod();
    const server = normalizeServer(a.server as string | undefined);
    let password = (a.password as string | undefined) ?? '';
    if (a['password-stdin']) password = fs.readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    else if (password) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    await login(server, String(a.username ?? ''), password, a['tls-verify'] as boolean);
    process.stdout.write('Login Succeeded\n');
  },
};

export const logoutCmd: CommandModule = {
  command: 'logout [server]',
  describe: 'Log out from a registry',
  builder: (y) => y.positional('server', { type: 'string' }),
  handler: async (a) => {
    const { logout, normalizeServer } = await loginMod();
    const server = normalizeServer(a.server as string | undefined);
    logout(server);
    process.stdout.write(`Removing login credentials for ${server}\n`);
  },
};

export const version: CommandModule = {
  command: 'version',
  describe: 'Show the skiff version information',
  handler: () => {
    process.stdout.write(`Client: skiff\n Version:    ${skiffVersion()}\n Node:       ${process.version}\n OS/Arch:    linux/${goArch()}\n`);
  },
};
