/**
 * Docker stops option parsing at the image (run/create) or container (exec) argument:
 * `skiff run -e A=1 busybox ls -la` gives `ls -la` to the container. yargs cannot do that
 * per command, so the CLI splits argv here first: the head goes to yargs, the tail is
 * kept verbatim as the container command.
 */

import { GLOBAL_OPTIONS, valueFlags } from './options.js';

/** Options (long names and single letters) that take a value, per passthrough command. */
const VALUE_FLAGS: Record<string, Set<string>> = {};

export function registerPassthrough(command: string, valueFlags: string[]): void {
  VALUE_FLAGS[command] = new Set(valueFlags);
}

export interface SplitArgv {
  head: string[];
  tail: string[];
}

const GLOBAL_VALUE_FLAGS = new Set(valueFlags(GLOBAL_OPTIONS));

/** Find the command word (skipping global options) and, for passthrough commands, split after its first positional. */
export function splitArgv(argv: string[]): SplitArgv {
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-')) {
    const a = argv[i]!.replace(/^--?/, '');
    i += !a.includes('=') && GLOBAL_VALUE_FLAGS.has(a) ? 2 : 1;
  }
  let cmd = argv[i];
  // `skiff container run ...` is `skiff run ...`
  if (cmd === 'container' && argv[i + 1] && VALUE_FLAGS[argv[i + 1]!]) cmd = argv[++i];
  const flags = cmd !== undefined ? VALUE_FLAGS[cmd] : undefined;
  if (!flags) return { head: argv, tail: [] };
  for (let j = i + 1; j < argv.length; j++) {
    const a = argv[j]!;
    // `run --rm -- IMAGE CMD`: the `--` only ends the options (yargs would not take IMAGE after it)
    if (a === '--') return { head: [...argv.slice(0, j), ...argv.slice(j + 1, j + 2)], tail: argv.slice(j + 2) };
    if (!a.startsWith('-') || a === '-') return { head: argv.slice(0, j + 1), tail: argv.slice(j + 1) };
    if (a.includes('=')) continue;
    if (a.startsWith('--')) {
      if (flags.has(a.slice(2))) j++;
    } else {
      // short cluster like -it or -e: only the last letter may take a value
      if (flags.has(a.slice(-1)) && a.length >= 2) j++;
    }
  }
  return { head: argv, tail: [] };
}

let tail: string[] = [];
export const setPassthrough = (t: string[]): void => {
  tail = t;
};
export const passthrough = (): string[] => tail;
