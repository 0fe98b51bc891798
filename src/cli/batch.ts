/**
 * Batch verbs (`rm a b c`, `stop a b`) act on every item, print each success on stdout and each
 * failure as one `Error: ...` line, and fail with the last error's exit code (Docker's behaviour).
 */
import { describeError, exitCodeOf } from '../errors.js';

export async function batch(items: string[], fn: (item: string) => Promise<string>): Promise<void> {
  let code = 0;
  for (const item of items) {
    try {
      process.stdout.write((await fn(item)) + '\n');
    } catch (e) {
      process.stderr.write(`Error: ${describeError(e)}\n`);
      code = exitCodeOf(e) === 125 ? 1 : exitCodeOf(e);
    }
  }
  if (code) process.exitCode = code;
}
