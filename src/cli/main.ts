/**
 * skiff entry point. `run`/`create`/`pull` take the fast path (fast.ts: parsed from the option tables,
 * loading only the run path's modules); everything else, and whatever the fast parser is not
 * sure about, goes to the yargs CLI (cli.ts), loaded on demand. Errors are printed here as one
 * `Error: ...` line with Docker's exit codes.
 */
import { describeError, exitCodeOf, UsageError } from '../errors.js';
import { runFast } from './fast.js';
import { mark } from '../lib/trace.js';

async function main(argv: string[]): Promise<void> {
  mark('main');
  if (await runFast(argv)) return;
  const { runCli } = await import('./cli.js');
  await runCli(argv);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const msg = describeError(err);
  process.stderr.write(`Error: ${msg}${err instanceof UsageError ? "\nSee 'skiff --help'." : ''}\n`);
  if (process.env.SKIFF_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  process.exitCode = exitCodeOf(err);
});
