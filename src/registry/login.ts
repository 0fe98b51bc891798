/** `login`/`logout`: check credentials against the registry, then keep them in Docker's config.json. */
import { SkiffError } from '../errors.js';
import { isInsecureRegistry } from '../oci/reference.js';
import { RegistryClient } from './client.js';
import { removeCredentials, storeCredentials } from './credentials.js';

export function normalizeServer(server: string | undefined): string {
  if (!server) return 'docker.io';
  const s = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return s === 'index.docker.io' || s === 'registry-1.docker.io' ? 'docker.io' : s;
}

/** Whether the registry takes these credentials (an error if not); nothing is kept (the Engine API's /auth: the client keeps them). */
export async function checkLogin(server: string, username: string, password: string, tlsVerify = true): Promise<void> {
  if (!username) throw new SkiffError('EINVAL', 'username is required: use --username or -u');
  if (!password) throw new SkiffError('EINVAL', 'password is required: use --password-stdin or -p');
  const client = new RegistryClient(server, {
    insecure: !tlsVerify || isInsecureRegistry(server),
    credentials: { username, password },
  });
  await client.ping();
}

export async function login(server: string, username: string, password: string, tlsVerify = true): Promise<void> {
  await checkLogin(server, username, password, tlsVerify);
  storeCredentials(server, username, password);
}

export function logout(server: string): void {
  if (!removeCredentials(server)) throw new SkiffError('EINVAL', `not logged in to ${server}`);
}
