/**
 * Declarative option tables: one definition per option, from which both yargs' builder
 * (`y.options(table)`, so `--help` lists them) and the fast argv parser of the run path are
 * derived. A table entry is a subset of yargs' `Options`.
 *
 * The fast parser knows only the plain shapes (`--flag`, `--opt value`, `--opt=value`, `-x`,
 * clusters of boolean letters like `-it` whose last letter may take the next argument, `--`).
 * For anything else (unknown options, `--help`, a value that looks like an option, a boolean
 * followed by `true`/`false`, a bad choice, ...) it returns undefined and the caller falls back
 * to yargs, which parses or reports the error as before. So on every argv it accepts, it must
 * give what yargs gives (test/unit/options.test.ts checks that on the same argv lists).
 */
import { aliasesOf, optionIndex } from './option-index.js';

export interface OptionSpec {
  type: 'string' | 'boolean' | 'number';
  alias?: string | readonly string[];
  default?: string | boolean | number;
  describe?: string;
  choices?: readonly string[];
  hidden?: boolean;
  /** yargs: also valid after the command word */
  global?: boolean;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;


/** Names and aliases of the options that take a value (what `splitArgv` must skip over). */
export function valueFlags(table: OptionTable): string[] {
  return Object.entries(table).filter(([, o]) => o.type !== 'boolean').flatMap(([k, o]) => [k, ...aliasesOf(o)]);
}

export interface FastParse {
  /** Canonical option names → values, defaults filled in (repeated string/number options become arrays, as yargs makes them). */
  values: Record<string, unknown>;
  /** The first positional argument (the image), or undefined when there is none. */
  positional?: string;
  /** Everything after the positional, verbatim (the container command). */
  rest: string[];
}

const indexOf = (table: OptionTable): Map<string, [string, OptionSpec]> => optionIndex(table);

const looksLikeOption = (a: string): boolean => a.startsWith('-') && a !== '-';

/**
 * Parse options up to the first positional argument (Docker stops there for run/create/exec).
 * Returns undefined whenever yargs might read the argv differently (see the module comment).
 */
export function parseFast(args: readonly string[], table: OptionTable): FastParse | undefined {
  const idx = indexOf(table);
  const values: Record<string, unknown> = {};
  const seen = new Set<string>();
  const set = (key: string, o: OptionSpec, raw: string | true): boolean => {
    let v: string | number | boolean;
    if (o.type === 'boolean') {
      if (raw === true || raw === 'true') v = true;
      else if (raw === 'false') v = false;
      else return false;
    } else {
      if (raw === true) return false;
      if (o.type === 'number') {
        if (!/^-?\d+(\.\d+)?$/.test(raw)) return false;
        v = Number(raw);
      } else v = raw;
      if (o.choices && (seen.has(key) || !o.choices.includes(raw))) return false;
    }
    if (seen.has(key) && o.type !== 'boolean') {
      const prev = values[key];
      values[key] = Array.isArray(prev) ? [...prev, v] : [prev, v];
    } else values[key] = v;
    seen.add(key);
    return true;
  };
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!looksLikeOption(a)) break;
    if (/^-\d/.test(a)) return undefined; // a negative number: yargs' own rules
    const next = args[i + 1];
    // yargs takes the next argument as a value unless it starts with '-'
    const takeNext = (): string | undefined => (next === undefined || next.startsWith('-') ? undefined : (i++, next));
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const hit = idx.get(name);
      if (!hit || name.length < 2) return undefined;
      const [key, o] = hit;
      if (eq >= 0) {
        if (!set(key, o, a.slice(eq + 1))) return undefined;
      } else if (o.type === 'boolean') {
        // yargs would take a following `true`/`false` as the flag's value
        if (next === 'true' || next === 'false' || !set(key, o, true)) return undefined;
      } else {
        const v = takeNext();
        if (v === undefined || !set(key, o, v)) return undefined;
      }
      continue;
    }
    // -x or a cluster -xyz: letters only; all but the last boolean; the last may take the next arg
    const letters = a.slice(1);
    if (!/^[A-Za-z]+$/.test(letters)) return undefined;
    for (let j = 0; j < letters.length; j++) {
      const hit = idx.get(letters[j]!);
      if (!hit) return undefined;
      const [key, o] = hit;
      const last = j === letters.length - 1;
      if (o.type === 'boolean') {
        if ((last && (next === 'true' || next === 'false')) || !set(key, o, true)) return undefined;
      } else {
        if (!last) return undefined;
        const v = takeNext();
        if (v === undefined || !set(key, o, v)) return undefined;
      }
    }
  }
  for (const [k, o] of Object.entries(table)) if (!seen.has(k) && o.default !== undefined) values[k] = o.default;
  return { values, positional: args[i], rest: args.slice(i + 1) };
}

/** Options every command accepts (before or after the command word). */
export const GLOBAL_OPTIONS = {
  root: { type: 'string', global: true, describe: 'Storage root (default /var/lib/skiff, or ~/.local/share/skiff rootless; env SKIFF_ROOT)' },
  runroot: { type: 'string', global: true, hidden: true, describe: 'Runtime state dir (env SKIFF_RUNROOT)' },
} as const satisfies OptionTable;
