/** Terminal checks of the CLI (run and exec). */
import { SkiffError } from '../errors.js';
import { lazyBuiltin } from '../lib/lazy.js';

const tty = lazyBuiltin<typeof import('node:tty')>('node:tty');

/** Docker's CLI (CheckTty): -it needs a terminal on stdin, or the container's shell reads nothing for ever. */
export function refuseTtyWithoutTerminal(): void {
  if (!tty().isatty(0)) throw new SkiffError('EINVAL', 'the input device is not a TTY', 1);
}
