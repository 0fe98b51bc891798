/**
 * `--sysctl KEY=VALUE`: only the kernel parameters a container's own namespaces hold (Docker's
 * opts.ValidateSysctl list: kernel.msgmax/msgmnb/msgmni, kernel.sem, kernel.shm*, fs.mqueue.*, net.*),
 * and net.* only with a network namespace of the container's (runc's check). The shim writes them in
 * the container's /proc/sys before it goes read-only (`linux.sysctl`), as runc and crun do.
 */
import { SkiffError } from '../errors.js';

const IPC_KEYS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);
const PREFIXES = ['net.', 'fs.mqueue.'];

/** The --sysctl values as HostConfig.Sysctls (Docker's CLI check and words; a later key wins). */
export function parseSysctls(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = eq < 0 ? v : v.slice(0, eq);
    if (eq < 0 || !(IPC_KEYS.has(key) || PREFIXES.some((p) => key.startsWith(p))) || key.includes('/') || key.split('.').some((w) => w === '' || w === '..')) {
      throw new SkiffError('EINVAL', `invalid argument "${v}" for "--sysctl" flag: sysctl '${v}' is not allowed`);
    }
    out[key] = v.slice(eq + 1);
  }
  return out;
}

/**
 * runc's check of the sysctls against the namespaces: net.* needs a network namespace that is not the
 * host's; the IPC ones an IPC namespace that is not the host's.
 */
export function checkSysctlNamespaces(sysctls: Record<string, string>, networkMode: string, ipcMode: string | undefined): void {
  for (const key of Object.keys(sysctls)) {
    if (key.startsWith('net.') && networkMode === 'host') throw new SkiffError('EINVAL', `sysctl "${key}" not allowed in host network namespace`);
    if (!key.startsWith('net.') && ipcMode === 'host') throw new SkiffError('EINVAL', `sysctl "${key}" not allowed in host IPC namespace`);
  }
}
