/**
 * `run` and `create`. Kept apart from the other container commands so that the run path
 * (src/cli/fast.ts) loads only this module and what it needs, never yargs or the other commands.
 */
import type { CommandModule } from 'yargs';
import { createContainer } from '../../container/create.js';
import { startAttached, startDetached } from '../../container/lifecycle.js';
import { passthrough } from '../argv.js';
import { CREATE_OPTIONS, createOptions, RUN_OPTIONS, toCreateOptions } from './run-options.js';

export const run: CommandModule = {
  command: 'run <image>',
  describe: 'Create and run a new container from an image',
  builder: (y) => createOptions(y.usage('Usage: skiff run [OPTIONS] IMAGE [COMMAND] [ARG...]'), RUN_OPTIONS),
  handler: async (a) => {
    const rec = await createContainer(toCreateOptions(a, passthrough()));
    if (a.detach) {
      await startDetached(rec);
      process.stdout.write(rec.Id + '\n');
      return;
    }
    await startAttached(rec);
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
