/**
 * Rootless store work: files in layers and containers belong to subordinate ids, which the
 * invoking user can create, chown or remove only inside a user namespace. Commands that do
 * such work re-execute the whole CLI inside one (`skiff-shim unshare`), as `podman unshare` does.
 */
import os from 'node:os';
import { native, shimPath } from '../native.js';
import { formatMap, rootlessMappings } from '../container/idmap.js';

// push and save pack built layers from their diff dirs: owners must read as the image has them
const NEEDS_USERNS = new Set(['pull', 'load', 'rmi', 'rm', 'prune', 'build', 'commit', 'import', 'system', 'unshare', 'push', 'save']);
const SUBCOMMAND_NEEDS = new Set(['pull', 'load', 'rm', 'prune', 'build', 'import', 'commit', 'reset', 'push', 'save']);

export function inUserns(): boolean {
  return process.env._SKIFF_IN_USERNS === '1';
}

function needsUserns(argv: string[]): boolean {
  // words, skipping options and the values of the global --root/--runroot (`skiff --root R pull X`)
  const words = argv.filter((a, i) => !a.startsWith('-') && !['--root', '--runroot'].includes(argv[i - 1] ?? ''));
  const [cmd, sub] = words;
  if (cmd === undefined) return false;
  if (cmd === 'image' || cmd === 'container' || cmd === 'volume' || cmd === 'system') return sub !== undefined && SUBCOMMAND_NEEDS.has(sub);
  return NEEDS_USERNS.has(cmd);
}

export async function maybeReexecInUserns(argv: string[]): Promise<void> {
  if (process.getuid!() === 0 || inUserns() || !needsUserns(argv)) return;
  reexecInUserns(argv);
}

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
