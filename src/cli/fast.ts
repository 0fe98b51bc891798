/**
 * The run path: `skiff [--root R] [container] run|create [OPTIONS] IMAGE [COMMAND...]` parsed from
 * the same option tables yargs is built from (commands/run-options.ts), without loading yargs or
 * the other command modules. Whatever the fast parser is not sure about (unknown options, --help,
 * odd shapes) returns false, and the caller hands the argv to the yargs CLI unchanged.
 */
import { configure } from '../config.js';
import { setPassthrough } from './argv.js';
import { GLOBAL_OPTIONS, parseFast, type FastParse } from './options.js';
import { CREATE_OPTIONS, RUN_OPTIONS } from './commands/run-options.js';
import { mark } from '../trace.js';

const RUN_TABLE = { ...RUN_OPTIONS, ...GLOBAL_OPTIONS };
const CREATE_TABLE = { ...CREATE_OPTIONS, ...GLOBAL_OPTIONS };

export interface FastCommand {
  command: 'run' | 'create';
  /** What yargs would hand the command's handler: option values by canonical name, and `image`. */
  args: Record<string, unknown>;
  /** The container command (after the image), verbatim. */
  rest: string[];
}

const single = (v: unknown): boolean => !Array.isArray(v);

/** Parse a run/create argv the way yargs would, or undefined when yargs must do it. */
export function parseRunArgv(argv: readonly string[]): FastCommand | undefined {
  const globals = parseFast(argv, GLOBAL_OPTIONS);
  if (!globals || globals.positional === undefined) return undefined;
  let word = globals.positional;
  let rest = globals.rest;
  if (word === 'container' && (rest[0] === 'run' || rest[0] === 'create')) [word, rest] = [rest[0], rest.slice(1)];
  if (word !== 'run' && word !== 'create') return undefined;
  if (argv.slice(0, argv.length - globals.rest.length).includes('--')) return undefined; // `skiff -- run`: yargs' call
  const p: FastParse | undefined = parseFast(rest, word === 'run' ? RUN_TABLE : CREATE_TABLE);
  if (!p || p.positional === undefined) return undefined;
  for (const k of Object.keys(GLOBAL_OPTIONS)) {
    // `skiff --root A run --root B` is an array in yargs: leave such argv to it
    if (globals.values[k] !== undefined && p.values[k] !== undefined) return undefined;
    if (!single(globals.values[k] ?? p.values[k])) return undefined;
    if (globals.values[k] !== undefined) p.values[k] = globals.values[k];
  }
  return { command: word, args: { ...p.values, image: p.positional }, rest: p.rest };
}

/** Run the command if the fast path takes it; false: hand the argv to yargs. */
export async function runFast(argv: readonly string[]): Promise<boolean> {
  const cmd = parseRunArgv(argv);
  if (!cmd) return false;
  configure({ root: cmd.args.root as string | undefined, runroot: cmd.args.runroot as string | undefined });
  setPassthrough(cmd.rest);
  const commands = await import('./commands/run.js');
  mark('loaded');
  await (cmd.command === 'run' ? commands.run : commands.create).handler({ ...cmd.args, _: [cmd.command], $0: 'skiff' });
  return true;
}
