/**
 * The CLI owns output: a handler returns data (command.ts, CommandOutput) and this prints it. A string
 * is stdout; `items` (batch verbs, `rm a b c`) print each success on stdout and each failure as one
 * `Error: ...` line on stderr as they come, and the last failure sets the exit code (Docker's: a
 * failure of skiff itself, 125, becomes 1 there).
 */
import { describeError, exitCodeOf } from '../errors.js';
import { writeStdout } from '../lib/stdout.js';
import type { CommandOutput } from './command.js';

export interface Streams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** stdout text; for the process's own streams through lib/stdout.ts (fd 1 while no stream was made). */
const writeOut = (s: Streams, text: string): void => void (s === process ? writeStdout(text) : s.stdout.write(text));

/** Print a handler's output; returns the exit code it asks for (0 when none). */
export async function printOutput(out: CommandOutput, s: Streams = process): Promise<number> {
  if (out === undefined) return 0;
  if (typeof out === 'string') {
    writeOut(s, out);
    return 0;
  }
  if (out.stderr !== undefined) s.stderr.write(out.stderr);
  if (out.stdout !== undefined) writeOut(s, out.stdout);
  let code = out.exitCode ?? 0;
  if (out.items) {
    for await (const r of out.items) {
      if ('out' in r) writeOut(s, r.out + '\n');
      else {
        s.stderr.write(`Error: ${describeError(r.error)}\n`);
        code = exitCodeOf(r.error) === 125 ? 1 : exitCodeOf(r.error);
      }
    }
  }
  return code;
}
