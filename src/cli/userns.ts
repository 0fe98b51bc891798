/**
 * Which commands run again inside the rootless user namespace (src/userns/enter.ts): those that
 * create, chown or remove files of subordinate ids in the store.
 */
import { inUserns, reexecInUserns } from '../userns/enter.js';

// push and save pack built layers from their diff dirs: owners must read as the image has them
const NEEDS_USERNS = new Set(['pull', 'load', 'rmi', 'rm', 'prune', 'build', 'commit', 'import', 'system', 'unshare', 'push', 'save']);
const SUBCOMMAND_NEEDS = new Set(['pull', 'load', 'rm', 'prune', 'build', 'import', 'commit', 'reset', 'push', 'save', 'service']);

function needsUserns(argv: string[]): boolean {
  // words, skipping options and the values of the global --root/--runroot (`skiff --root R pull X`)
  const words = argv.filter((a, i) => !a.startsWith('-') && !['--root', '--runroot'].includes(argv[i - 1] ?? ''));
  const [cmd, sub] = words;
  if (cmd === undefined) return false;
  if (cmd === 'image' || cmd === 'container' || cmd === 'volume' || cmd === 'system' || cmd === 'buildx') return sub !== undefined && SUBCOMMAND_NEEDS.has(sub);
  return NEEDS_USERNS.has(cmd);
}

export async function maybeReexecInUserns(argv: string[]): Promise<void> {
  if (process.getuid!() === 0 || inUserns() || !needsUserns(argv)) return;
  reexecInUserns(argv);
}
