/**
 * skiff entry point: every command line goes through the registry (registry.ts: the command found by
 * parse.ts, parsed with pflag's rules, its handler run, its output printed). Errors are printed here as
 * one `Error: ...` line with Docker's exit codes; a usage error adds Docker's hint line
 * (`See 'skiff run --help'.`).
 */
import { describeError, exitCodeOf, UsageError } from '../errors.js';
import { mark } from '../lib/trace.js';
import { runRegistered } from './registry.js';

mark('main');
runRegistered(process.argv.slice(2)).catch((err: unknown) => {
  const msg = describeError(err);
  const hint = err instanceof UsageError ? `\nSee 'skiff${err.line ? ` ${err.line}` : ''} --help'.` : '';
  process.stderr.write(`Error: ${msg}${hint}\n`);
  if (process.env.SKIFF_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  process.exitCode = exitCodeOf(err);
});
