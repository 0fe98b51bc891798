/**
 * Rootless store work: files in layers and containers belong to subordinate ids, which the invoking
 * user can create, chown or remove only inside a user namespace. Commands that do such work run the
 * whole CLI again inside one (`skiff-shim unshare`, as `podman unshare`); which commands do is the
 * command registry's business (`userns` in a command's descriptor).
 */
import os from 'node:os';
import { native, shimPath } from '../native.js';
import { formatMap, rootlessMappings } from './idmap.js';

/** Whether this process is the CLI run again inside skiff's user namespace. */
export function inUserns(): boolean {
  return process.env._SKIFF_IN_USERNS === '1';
}

/** Replace this process by the CLI (same script, `argv`) inside a new user namespace with the rootless id maps. */
export function reexecInUserns(argv: string[]): never {
  const m = rootlessMappings();
  const env = Object.entries({ ...process.env, _SKIFF_IN_USERNS: '1', _SKIFF_HOST_UID: String(process.getuid!()), _SKIFF_HOST_GID: String(process.getgid!()), _SKIFF_HOST_USER: os.userInfo().username }).map(([k, v]) => `${k}=${v ?? ''}`);
  const script = process.argv[1]!;
  return native().execve(
    shimPath(),
    ['skiff-shim', 'unshare', formatMap(m.uidMappings), formatMap(m.gidMappings), '--', process.execPath, '--', script, ...argv],
    env,
  );
}
