/**
 * The command line, read as Docker's CLI reads it (cobra over pflag), for every command from its
 * descriptor (command.ts):
 * - `findCommand`: the one place that finds the command word(s): skiff's own options first (`--root R`,
 *   `-D`), then a top-level command or alias, or a management group and its verb.
 * - `parseCommand`: the command's options and positionals. Long flags `--name v`, `--name=v`;
 *   shorthands `-e v`, `-ev`, `-e=v`, clusters of booleans `-itd`; a value is the next argument
 *   whatever it looks like (`--name -x`); booleans take no separate value (`--rm=false` does); `--`
 *   ends the options. A single-value flag given twice keeps the last value, a `repeat` flag keeps all.
 *   Options may follow positionals, except for `passthrough` commands (run, create, exec, top), whose
 *   options end at the first positional (the container's command is kept verbatim).
 * Errors are pflag's and cobra's words (UsageError: unknown flag, flag needs an argument, invalid
 * argument, requires N arguments, unknown command).
 */
import { UsageError } from '../errors.js';
import { parseDurationNs } from '../lib/duration.js';
import { goQuote, parseBoolStrict, parseGoInt } from '../lib/strconv.js';
import { parseSize } from '../lib/units.js';
import { aliasesOf, optionIndex } from './option-index.js';
import { type OptionSpec, type OptionTable, type ParsedValues, type PositionalSpec } from './command.js';

/** Options of skiff itself, before the command word (Docker's global options, and skiff's store). */
export const ROOT_OPTIONS = {
  config: { type: 'string', describe: 'Location of client config files (default ~/.docker; env DOCKER_CONFIG)' },
  debug: { type: 'boolean', alias: 'D', default: false, describe: 'Enable debug mode' },
  'log-level': { type: 'string', alias: 'l', default: 'info', describe: 'Set the logging level ("debug", "info", "warn", "error", "fatal")' },
  version: { type: 'boolean', alias: 'v', default: false, describe: 'Print version information and quit' },
} as const satisfies OptionTable;

/** Options every command accepts, before or after the command word. */
export const PERSISTENT_OPTIONS = {
  root: { type: 'string', describe: 'Storage root (default /var/lib/skiff, or ~/.local/share/skiff rootless; env SKIFF_ROOT)' },
  runroot: { type: 'string', hidden: true, describe: 'Runtime state dir (env SKIFF_RUNROOT)' },
} as const satisfies OptionTable;

const HELP: OptionSpec = { type: 'boolean', default: false, describe: 'Print usage' };

/** A command as the word finder sees it: its command line and the other lines that name it. */
export interface Named {
  group: string;
  name: string;
  aliases: readonly string[];
}

export interface Found<C extends Named> {
  /** The command, or undefined: skiff alone, or a group without its verb (help), or `--version`. */
  command?: C;
  /** A group named without a (known) verb: its help. */
  group?: string;
  /** The command line as typed (`container ls`, `ps`): messages and usage lines name it. */
  invokedAs: string;
  /** skiff's own options given before the command. */
  root: Record<string, unknown>;
  /** The group's own options given between the group and its verb (`compose -f a.yaml up`), by long name, as given. */
  groupValues: Record<string, unknown>;
  /** The arguments after the command words. */
  rest: string[];
  help: boolean;
}

const indexOf = (table: OptionTable): Map<string, [string, OptionSpec]> => optionIndex(table);

/** The flag as pflag names it in messages: `-n, --last` when it has a shorthand, else `--stop-timeout`. */
function flagLabel(name: string, o: OptionSpec): string {
  const short = aliasesOf(o).find((a) => a.length === 1);
  return short ? `-${short}, --${name}` : `--${name}`;
}

const invalid = (raw: string, name: string, o: OptionSpec, why: string): string => `invalid argument ${goQuote(raw)} for ${goQuote(flagLabel(name, o))} flag: ${why}`;

/** pflag's value check and conversion; an error message (without the usage) when it does not fit. */
function convert(name: string, o: OptionSpec, raw: string): { value: unknown } | { error: string; kind?: 'value' } {
  try {
    if (o.type === 'boolean') return { value: parseBoolStrict(raw) };
    if (o.type === 'int') return { value: parseGoInt(raw) };
    if (o.format === 'duration') parseDurationNs(raw);
    if (o.format === 'size') parseSize(raw);
    if (o.format === 'stream') {
      const s = raw.toLowerCase();
      if (s === 'stdin' || s === 'stdout' || s === 'stderr') return { value: s };
      throw new Error('valid streams are STDIN, STDOUT and STDERR');
    }
  } catch (e) {
    return { error: invalid(raw, name, o, (e as Error).message) };
  }
  if (o.choices && !o.choices.includes(raw)) {
    const q = o.choices.map((c) => JSON.stringify(c));
    const list = q.length > 1 ? `${q.slice(0, -1).join(', ')} or ${q.at(-1)}` : q.join('');
    // Docker's words for run's --pull, the shape for every choice
    return { error: `invalid ${name} option: '${raw}': must be one of ${list}`, kind: 'value' };
  }
  return { value: raw };
}

interface FlagScan {
  /** Values by long name (repeat: arrays). */
  values: Record<string, unknown>;
  positionals: string[];
}

/**
 * Read flags out of `args` with `table`. `stopAtPositional`: options end at the first positional
 * (everything after is positional, verbatim); `stopAfter`: return at the first positional without
 * taking it (the command word). Returns the scan and where it stopped.
 */
function scanFlags(
  args: readonly string[],
  table: OptionTable,
  fail: (kind: 'flag' | 'value', msg: string) => never,
  mode: 'interspersed' | 'stopAtPositional' | 'stopAfter',
  onFlag?: (key: string, raw: string) => void,
): FlagScan & { next: number } {
  const idx = indexOf(table);
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const set = (name: string, o: OptionSpec, raw: string): void => {
    const r = convert(name, o, raw);
    if ('error' in r) fail(r.kind ?? 'flag', r.error);
    else if (!o.repeat) values[name] = r.value;
    else if (Array.isArray(values[name])) values[name].push(r.value);
    else values[name] = [r.value];
    onFlag?.(name, raw);
  };
  let i = 0;
  let flagsDone = false;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (flagsDone || a === '-' || !a.startsWith('-')) {
      if (mode === 'stopAfter' && !flagsDone) break;
      positionals.push(a);
      if (mode === 'stopAtPositional') flagsDone = true;
      continue;
    }
    if (a === '--') {
      flagsDone = true;
      if (mode === 'stopAfter') {
        i++;
        break;
      }
      continue;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const hit = name.length > 1 ? idx.get(name) : undefined;
      if (!hit) fail('flag', `unknown flag: --${name}`);
      const [key, o] = hit!;
      if (eq >= 0) set(key, o, a.slice(eq + 1));
      else if (o.type === 'boolean') set(key, o, 'true');
      else if (i + 1 < args.length) set(key, o, args[++i]!);
      else fail('flag', `flag needs an argument: --${name}`);
      continue;
    }
    // shorthands: -x, -xyz (booleans, the last may take a value), -xVALUE, -x=VALUE
    let s = a.slice(1);
    while (s.length) {
      const c = s[0]!;
      const hit = idx.get(c);
      if (!hit) fail('flag', `unknown shorthand flag: '${c}' in -${s}`);
      const [key, o] = hit!;
      if (s.length > 2 && s[1] === '=') {
        set(key, o, s.slice(2));
        s = '';
      } else if (o.type === 'boolean') {
        set(key, o, 'true');
        s = s.slice(1);
      } else if (s.length > 1) {
        set(key, o, s.slice(1));
        s = '';
      } else if (i + 1 < args.length) {
        set(key, o, args[++i]!);
        s = '';
      } else fail('flag', `flag needs an argument: '${c}' in -${s}`);
    }
  }
  return { values, positionals, next: i };
}

const ROOT_TABLE: OptionTable = { ...ROOT_OPTIONS, ...PERSISTENT_OPTIONS, help: { ...HELP, alias: 'h' } };
const ROOT_USAGE = '[OPTIONS] COMMAND [ARG...]';

/**
 * Find the command of `argv` among `commands`: skiff's options, then the command line (a top-level
 * name or alias, or a group and its verb). An unknown word is cobra's "unknown command".
 */
export function findCommand<C extends Named>(argv: readonly string[], commands: readonly C[], groupOptions: Readonly<Record<string, OptionTable>> = {}): Found<C> {
  const rootFail = (kind: 'flag' | 'value', msg: string): never => {
    throw new UsageError(kind, msg, '', ROOT_USAGE);
  };
  const root = scanFlags(argv, ROOT_TABLE, rootFail, 'stopAfter');
  const help = root.values.help === true;
  const words = argv.slice(root.next);
  let groupValues: Record<string, unknown> = {};
  const found = (command: C | undefined, group: string | undefined, invokedAs: string, rest: string[]): Found<C> => ({
    ...(command ? { command } : {}),
    ...(group ? { group } : {}),
    invokedAs,
    root: root.values,
    groupValues,
    rest,
    help,
  });
  const first = words[0];
  if (first === undefined) return found(undefined, undefined, '', []);
  const lineOf = (c: C): string[] => [c.group === 'top' ? c.name : `${c.group} ${c.name}`, ...c.aliases];
  const byLine = new Map<string, C>();
  for (const c of commands) for (const l of lineOf(c)) byLine.set(l, c);
  const top = byLine.get(first);
  if (top) return found(top, undefined, first, words.slice(1));
  // a group: the first word of a two-word line (`container ls`, or an alias's: `buildx build`)
  const isGroup = [...byLine.keys()].some((l) => l.startsWith(`${first} `));
  // `skiff UNKNOWN --help` is an error too (issue 16), not the top-level help
  if (!isGroup) throw new UsageError('command', `unknown command: skiff ${first}`, '', '');
  // a group with options of its own reads them before its verb (docker compose's -f, -p, ...)
  let at = 1;
  const own = groupOptions[first];
  if (own) {
    const fail = (kind: 'flag' | 'value', msg: string): never => {
      throw new UsageError(kind, msg, first, 'COMMAND');
    };
    const scan = scanFlags(words.slice(1), { ...own, help: { ...HELP, alias: 'h' } }, fail, 'stopAfter');
    at += scan.next;
    if (scan.values.help === true) return found(undefined, first, first, []);
    delete scan.values.help;
    groupValues = scan.values;
  }
  const verb = words[at];
  if (verb === undefined || verb === '--help' || verb === '-h') return found(undefined, first, first, []);
  if (verb.startsWith('-')) throw new UsageError('flag', verb.startsWith('--') ? `unknown flag: ${verb.split('=')[0]}` : `unknown shorthand flag: '${verb[1]}' in ${verb}`, first, '');
  const sub = byLine.get(`${first} ${verb}`);
  if (!sub) throw new UsageError('command', `unknown command: skiff ${first} ${verb}`, first, '');
  return found(sub, undefined, `${first} ${verb}`, words.slice(at + 1));
}

export interface Parseable {
  options: OptionTable;
  positionals: readonly PositionalSpec[];
  passthrough?: boolean;
  usage?: string;
}

/** Docker's usage words after the command: `[OPTIONS] CONTAINER [CONTAINER...]`. */
export function usageOf(c: Parseable): string {
  if (c.usage !== undefined) return c.usage;
  const up = (p: PositionalSpec): string => p.name.toUpperCase().replace(/-/g, '_');
  const pos = c.positionals.map((p) => (p.variadic ? (p.required ? `${up(p)} [${up(p)}...]` : `[${up(p)}...]`) : p.required ? up(p) : `[${up(p)}]`));
  return ['[OPTIONS]', ...pos].join(' ');
}

/** cobra's words for a wrong number of arguments. */
function arityError(line: string, n: number, min: number, max: number): string | undefined {
  if (n >= min && n <= max) return undefined;
  const args = (k: number): string => `${k} argument${k === 1 ? '' : 's'}`;
  const cmd = `'skiff ${line}'`;
  if (max === 0) return `${cmd} accepts no arguments`;
  if (min === max) return `${cmd} requires ${args(min)}`;
  if (max === Infinity) return `${cmd} requires at least ${args(min)}`;
  if (min === 0) return `${cmd} requires at most ${args(max)}`;
  return `${cmd} requires at least ${min} and at most ${args(max)}`;
}

/** The table a command's arguments are read with: its own, skiff's persistent ones, and --help (-h unless taken). */
function tableOf(c: Parseable): OptionTable {
  const takesH = indexOf(c.options).has('h');
  return { ...PERSISTENT_OPTIONS, ...c.options, help: takesH ? HELP : { ...HELP, alias: 'h' } };
}

/** Option values as given, with the table's defaults for the others (a repeat flag: []), as parseCommand fills them. */
export function withDefaults(table: OptionTable, given: Record<string, unknown>): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [k, o] of Object.entries(table)) {
    const v = given[k];
    options[k] = v !== undefined ? v : o.repeat ? [] : o.default !== undefined ? o.default : o.type === 'boolean' ? false : undefined;
  }
  return options;
}

/**
 * Read a command's arguments (after its command words) into option values (defaults filled in) and
 * positionals by name, or `help` when --help was given.
 */
export function parseCommand(args: readonly string[], c: Parseable, invokedAs: string): ParsedValues | 'help' {
  const usage = usageOf(c);
  const fail = (kind: 'flag' | 'value', msg: string): never => {
    throw new UsageError(kind, msg, invokedAs, usage);
  };
  const table = tableOf(c);
  const scan = scanFlags(args, table, fail, c.passthrough ? 'stopAtPositional' : 'interspersed');
  if (scan.values.help === true) return 'help';
  const options = withDefaults(table, scan.values);
  delete options.help;
  const pos = c.positionals;
  const min = pos.filter((p) => p.required).length;
  const max = pos.some((p) => p.variadic) ? Infinity : pos.length;
  const err = arityError(invokedAs, scan.positionals.length, min, max);
  if (err) throw new UsageError('args', err, invokedAs, usage);
  const named: Record<string, string | string[] | undefined> = {};
  pos.forEach((p, i) => {
    named[p.name] = p.variadic ? scan.positionals.slice(i) : scan.positionals[i];
  });
  return { options, args: named };
}

/**
 * A command's arguments (after its command words) read as `parseCommand` reads them, with the options
 * in `drop` (long names) left out and the others given again one per argument, `--name=value` (`--flag`
 * for a boolean that is true): shorthand clusters (`-dit`), `--rm=true`, `--cidfile X` and
 * `--cidfile=X` are all taken apart. skiff's persistent options (--root) are dropped too.
 */
export function withoutOptions(args: readonly string[], c: Parseable, invokedAs: string, drop: readonly string[]): string[] {
  const fail = (kind: 'flag' | 'value', msg: string): never => {
    throw new UsageError(kind, msg, invokedAs, usageOf(c));
  };
  const table = tableOf(c);
  const skip = new Set([...drop, ...Object.keys(PERSISTENT_OPTIONS)]);
  const kept: string[] = [];
  const scan = scanFlags(args, table, fail, c.passthrough ? 'stopAtPositional' : 'interspersed', (key, raw) => {
    if (skip.has(key)) return;
    kept.push(table[key]!.type === 'boolean' && parseBoolStrict(raw) ? `--${key}` : `--${key}=${raw}`);
  });
  const first = scan.positionals[0];
  return [...kept, ...(first !== undefined && first.startsWith('-') ? ['--'] : []), ...scan.positionals];
}
