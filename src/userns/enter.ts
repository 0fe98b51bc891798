/**
 * Rootless store work: files in layers and containers belong to subordinate ids, which the invoking
 * user can create, chown or remove only inside a user namespace. Commands that do such work run the
 * whole CLI again inside one (`skiff-shim unshare`, as `podman unshare`); which commands do is the
 * command registry's business (`userns` in a command's descriptor).
 */
import os from 'node:os';
import { childProcess } from '../lib/lazy.js';
import { native, shimPath } from '../native.js';
import { formatMap, rootlessMappings } from './idmap.js';

/** Whether this process is the CLI run again inside skiff's user namespace. */
export function inUserns(): boolean {
  return process.env._SKIFF_IN_USERNS === '1';
}

/** The command line and environment of the CLI (same script, `argv`) run inside a new user namespace with the rootless id maps. */
export function usernsCommand(argv: string[]): { args: string[]; env: Record<string, string> } {
  const m = rootlessMappings();
  const env = { ...process.env, _SKIFF_IN_USERNS: '1', _SKIFF_HOST_UID: String(process.getuid!()), _SKIFF_HOST_GID: String(process.getgid!()), _SKIFF_HOST_USER: os.userInfo().username };
  const script = process.argv[1]!;
  return {
    args: ['skiff-shim', 'unshare', formatMap(m.uidMappings), formatMap(m.gidMappings), '--', process.execPath, '--', script, ...argv],
    env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v ?? ''])),
  };
}

/** Replace this process by the CLI (same script, `argv`) inside a new user namespace with the rootless id maps. */
export function reexecInUserns(argv: string[]): never {
  const { args, env } = usernsCommand(argv);
  return native().execve(shimPath(), args, Object.entries(env).map(([k, v]) => `${k}=${v}`));
}

/**
 * The same as a child, handing it descriptors this process opened (as fds 3, 4, ...: what only the
 * invoking user may open, such as a running container's /proc/PID/root); its exit status. SIGINT,
 * SIGTERM and SIGHUP sent to us go to it (the shim passes them on), so the command inside ends as
 * it would have here (`cp` thaws the container it froze).
 */
export async function runInUserns(argv: string[], fds: number[]): Promise<number> {
  const { args, env } = usernsCommand(argv);
  const forwarded: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  return new Promise<number>((resolve, reject) => {
    const child = childProcess().spawn(shimPath(), args.slice(1), { argv0: args[0], env, stdio: ['inherit', 'inherit', 'inherit', ...fds] });
    const pass = (sig: NodeJS.Signals): void => void child.kill(sig);
    for (const s of forwarded) process.on(s, pass);
    const done = (): void => {
      for (const s of forwarded) process.off(s, pass);
    };
    child.on('error', (e) => (done(), reject(e)));
    child.on('exit', (code, signal) => (done(), resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0))));
  });
}
