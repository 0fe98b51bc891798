/**
 * `run` and `create`. Kept apart from the other container commands so that the run path
 * (src/cli/fast.ts) loads only this module and what it needs, never yargs or the other commands.
 */
import type { CommandModule } from 'yargs';
import { createContainer } from '../../container/create.js';
import { runCreated } from '../../container/lifecycle.js';
import { SkiffError } from '../../errors.js';
import { lazyBuiltin } from '../../lib/lazy.js';
import { passthrough } from '../argv.js';
import { CREATE_OPTIONS, createOptions, RUN_OPTIONS, toCreateOptions } from './run-options.js';

const tty = lazyBuiltin<typeof import('node:tty')>('node:tty');

/** Docker's CLI (CheckTty): -it needs a terminal on stdin, or the container's shell reads nothing for ever. */
export function refuseTtyWithoutTerminal(): void {
  if (!tty().isatty(0)) throw new SkiffError('EINVAL', 'the input device is not a TTY', 1);
}

export const run: CommandModule = {
  command: 'run <image>',
  describe: 'Create and run a new container from an image',
  builder: (y) => createOptions(y.usage('Usage: skiff run [OPTIONS] IMAGE [COMMAND] [ARG...]'), RUN_OPTIONS),
  handler: async (a) => {
    if (a.tty && a.interactive && !a.detach) refuseTtyWithoutTerminal();
    const rec = await createContainer(toCreateOptions(a, passthrough()));
    await runCreated(rec, Boolean(a.detach));
    if (a.detach) process.stdout.write(rec.Id + '\n');
  },
};

export const create: CommandModule = {
  command: 'create <image>',
  describe: 'Create a new container',
  builder: (y) => createOptions(y.usage('Usage: skiff create [OPTIONS] IMAGE [COMMAND] [ARG...]'), CREATE_OPTIONS),
  handler: async (a) => {
    const rec = await createContainer(toCreateOptions(a, passthrough()));
    process.stdout.write(rec.Id + '\n');
  },
};
