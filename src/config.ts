/**
 * Where skiff keeps things, decided once per invocation.
 *   root:    /var/lib/skiff (root) or $XDG_DATA_HOME/skiff (~/.local/share/skiff); --root / SKIFF_ROOT override
 *   runroot: /run/skiff (root) or $XDG_RUNTIME_DIR/skiff (fallback /tmp/skiff-<uid>); SKIFF_RUNROOT override
 */
import os from 'node:os';
import path from 'node:path';

export interface Paths {
  root: string;
  runroot: string;
  rootless: boolean;
  uid: number;
  gid: number;
}

let current: Paths | undefined;

export function configure(opts: { root?: string; runroot?: string } = {}): Paths {
  const uid = process.getuid ? process.getuid() : 0;
  const gid = process.getgid ? process.getgid() : 0;
  const env = process.env;
  const rootless = uid !== 0 || env._SKIFF_IN_USERNS === '1';
  const root = opts.root || env.SKIFF_ROOT || defaultRoot(rootless);
  const runroot =
    opts.runroot || env.SKIFF_RUNROOT ||
    (rootless ? (env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'skiff') : `/tmp/skiff-run-${rootless ? Number(env._SKIFF_HOST_UID ?? uid) : uid}`) : '/run/skiff');
  current = { root: path.resolve(root), runroot: path.resolve(runroot), rootless, uid, gid };
  return current;
}

/** The store a user gets without --root or SKIFF_ROOT. */
export function defaultRoot(rootless: boolean): string {
  const home = process.env.HOME || os.homedir();
  return rootless ? path.join(process.env.XDG_DATA_HOME || path.join(home, '.local/share'), 'skiff') : '/var/lib/skiff';
}

export function paths(): Paths {
  return current ?? configure();
}

/** Docker-style client config dir (~/.docker or $DOCKER_CONFIG). */
export function dockerConfigDir(): string {
  return process.env.DOCKER_CONFIG || path.join(process.env.HOME || os.homedir(), '.docker');
}
