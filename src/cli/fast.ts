/**
 * The fast path: `skiff [--root R] [container] run|create [OPTIONS] IMAGE [COMMAND...]` and
 * `skiff [image] pull [OPTIONS] IMAGE`, parsed from the same option tables yargs is built from
 * (commands/run-options.ts, commands/pull-options.ts), without loading yargs or the other command
 * modules. Whatever the fast parser is not sure about (unknown options, --help,
 * odd shapes) returns false, and the caller hands the argv to the yargs CLI unchanged.
 */
import { configure } from '../config.js';
import { setPassthrough } from './argv.js';
import { GLOBAL_OPTIONS, parseFast, type FastParse } from './options.js';
import { CREATE_OPTIONS, RUN_OPTIONS } from './commands/run-options.js';
import { PULL_OPTIONS } from './commands/pull-options.js';
import { maybeReexecInUserns } from './userns.js';
import { mark } from '../lib/trace.js';
import type { OptionTable } from './options.js';

type Handler = (a: Record<string, unknown>) => void | Promise<void>;

/** The commands the fast path takes: their option table, group word, and handler (loaded on use). */
const FAST = {
  run: { group: 'container', table: { ...RUN_OPTIONS, ...GLOBAL_OPTIONS }, command: true, handler: async (): Promise<Handler> => (await import('./commands/run.js')).run.handler as Handler },
  create: { group: 'container', table: { ...CREATE_OPTIONS, ...GLOBAL_OPTIONS }, command: true, handler: async (): Promise<Handler> => (await import('./commands/run.js')).create.handler as Handler },
  pull: { group: 'image', table: { ...PULL_OPTIONS, ...GLOBAL_OPTIONS }, command: false, handler: async (): Promise<Handler> => (await import('./commands/image.js')).pull.handler as Handler },
} satisfies Record<string, { group: string; table: OptionTable; command: boolean; handler: () => Promise<Handler> }>;
type FastName = keyof typeof FAST;
const isFast = (w: string | undefined): w is FastName => w !== undefined && Object.hasOwn(FAST, w);

export interface FastCommand {
  command: FastName;
  /** What yargs would hand the command's handler: option values by canonical name, and `image`. */
  args: Record<string, unknown>;
  /** The container command (after the image), verbatim (always empty for pull). */
  rest: string[];
}

const single = (v: unknown): boolean => !Array.isArray(v);

/** Parse a run/create/pull argv the way yargs would, or undefined when yargs must do it. */
export function parseRunArgv(argv: readonly string[]): FastCommand | undefined {
  const globals = parseFast(argv, GLOBAL_OPTIONS);
  if (!globals || globals.positional === undefined) return undefined;
  let word = globals.positional;
  let rest = globals.rest;
  if ((word === 'container' || word === 'image') && isFast(rest[0]) && FAST[rest[0]].group === word) [word, rest] = [rest[0], rest.slice(1)];
  if (!isFast(word)) return undefined;
  const spec = FAST[word];
  if (argv.slice(0, argv.length - globals.rest.length).includes('--')) return undefined; // `skiff -- run`: yargs' call
  const p: FastParse | undefined = parseFast(rest, spec.table);
  if (!p || p.positional === undefined) return undefined;
  if (!spec.command && p.rest.length) return undefined; // pull takes one image: yargs reports the rest
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
  // rootless pull works on files of subordinate ids: inside the user namespace, as through yargs
  if (cmd.command === 'pull') await maybeReexecInUserns([...argv]);
  setPassthrough(cmd.rest);
  const handler = await FAST[cmd.command].handler();
  mark('loaded');
  await handler({ ...cmd.args, _: [cmd.command], $0: 'skiff' });
  return true;
}
