/** Terminal checks of the CLI (run, start and exec). */
import { SkiffError } from '../errors.js';
import { lazyBuiltin } from '../lib/lazy.js';

const tty = lazyBuiltin<typeof import('node:tty')>('node:tty');

/** Docker's CLI (CheckTty): -it needs a terminal on stdin, or the container's shell reads nothing for ever. */
export function refuseTtyWithoutTerminal(): void {
  if (!tty().isatty(0)) throw new SkiffError('EINVAL', 'the input device is not a TTY', 1);
}

/** The detach keys of `run -it`, `start -ai` (the flag, config.json's, else Docker's default), refused with Docker's words when they do not parse. */
export async function checkedDetachKeys(flag: string | undefined): Promise<string> {
  const [{ detachKeys }, { parseDetachKeys }] = await Promise.all([import('./client-config.js'), import('../container/attach.js')]);
  const keys = detachKeys(flag);
  parseDetachKeys(keys);
  return keys;
}
