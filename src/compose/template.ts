/**
 * Variable substitution in one string, as compose-go's template package (the Compose spec's
 * interpolation): `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `${VAR?err}`,
 * `${VAR:+alt}`, `${VAR+alt}`, `$$` for a literal `$`, defaults that nest (`${A:-${B}}`). A `$` not
 * followed by a name, `{` or `$` is kept; any other `${...}` is an "Invalid template".
 */

/** Looks a variable up: its value, or undefined when it is not set (set-but-empty is ""). */
export type Lookup = (name: string) => string | undefined;

export class InvalidTemplateError extends Error {
  template = '';
  constructor(template = '') {
    super();
    this.setTemplate(template);
  }
  /** The whole string the template error is in (set by the outermost substitute call that sees it). */
  setTemplate(template: string): void {
    this.template = template;
    this.message = `Invalid template: ${JSON.stringify(template)}`;
  }
}

export class MissingRequiredError extends Error {
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(reason ? `required variable ${variable} is missing a value: ${reason}` : `required variable ${variable} is missing a value`);
  }
}

export interface SubstituteOptions {
  /** Called for each variable used without a value (Docker warns "The "X" variable is not set..."). */
  onUnset?: (name: string) => void;
}

// compose-go's pattern: `$` then `$` (escaped) | name | `{name[:][-+?]rest}` | `{` (invalid). `.*` is greedy:
// a braced match runs to the last `}` on its line; the first balanced `}` splits it and the rest is
// substituted again.
const PATTERN = /\$(?:(\$)|([_a-z][_a-z0-9]*)|\{(?:([_a-z][_a-z0-9]*(?::?[-+?].*)?)\}|()))/gi;

const ONE = new RegExp(PATTERN.source, 'i');

type SubstFn = (substitution: string, lookup: Lookup, opts: SubstituteOptions) => { value: string; applied: boolean };

const SEPARATORS: ReadonlyArray<readonly [string, SubstFn]> = [
  [':?', (s, l, o) => required(s, l, ':?', (v) => v !== '', o)],
  ['?', (s, l, o) => required(s, l, '?', () => true, o)],
  [':-', (s, l, o) => whenAbsent(s, l, ':-', true, o)],
  ['-', (s, l, o) => whenAbsent(s, l, '-', false, o)],
  [':+', (s, l, o) => whenPresent(s, l, ':+', true, o)],
  ['+', (s, l, o) => whenPresent(s, l, '+', false, o)],
];

/** The operator that appears first in the matched text (compose-go sorts them by first index). */
function substitutionFor(text: string): SubstFn {
  let best: SubstFn = SEPARATORS[0]![1];
  let bestIdx = Infinity;
  for (const [sep, fn] of SEPARATORS) {
    const i = text.indexOf(sep);
    if (i >= 0 && i < bestIdx) {
      bestIdx = i;
      best = fn;
    }
  }
  return best;
}

function firstClosingBrace(s: string): number {
  let open = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '}') {
      open--;
      if (open === 0) return i;
    }
    if (s[i] === '{') {
      open++;
      i++;
    }
  }
  return -1;
}

function partition(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + sep.length)];
}

function whenAbsent(s: string, lookup: Lookup, sep: string, emptyToo: boolean, opts: SubstituteOptions): { value: string; applied: boolean } {
  if (!s.includes(sep)) return { value: '', applied: false };
  const [name, def] = partition(s, sep);
  const v = lookup(name);
  if (v === undefined || (emptyToo && v === '')) return { value: substitute(def, lookup, opts), applied: true };
  return { value: v, applied: true };
}

function whenPresent(s: string, lookup: Lookup, sep: string, nonEmpty: boolean, opts: SubstituteOptions): { value: string; applied: boolean } {
  if (!s.includes(sep)) return { value: '', applied: false };
  const [name, alt] = partition(s, sep);
  const v = lookup(name);
  if (v !== undefined && (!nonEmpty || v !== '')) return { value: substitute(alt, lookup, opts), applied: true };
  return { value: v ?? '', applied: true };
}

function required(s: string, lookup: Lookup, sep: string, valid: (v: string) => boolean, opts: SubstituteOptions): { value: string; applied: boolean } {
  if (!s.includes(sep)) return { value: '', applied: false };
  const [name, msg] = partition(s, sep);
  const v = lookup(name);
  if (v === undefined || !valid(v)) throw new MissingRequiredError(name, substitute(msg, lookup, opts));
  return { value: v, applied: true };
}

/** Substitutes every variable of `template`; throws InvalidTemplateError or MissingRequiredError. */
export function substitute(template: string, lookup: Lookup, opts: SubstituteOptions = {}): string {
  if (!template.includes('$')) return template;
  let first: unknown;
  const out = template.replace(PATTERN, (whole: string) => {
    try {
      return replaceOne(whole, lookup, opts);
    } catch (e) {
      if (e instanceof InvalidTemplateError && e.template === '') e.setTemplate(template);
      first ??= e;
      return '';
    }
  });
  if (first !== undefined) throw first;
  return out;
}

function replaceOne(whole: string, lookup: Lookup, opts: SubstituteOptions): string {
  const fn = substitutionFor(whole);
  let text = whole;
  let rest = '';
  const close = firstClosingBrace(text);
  if (close > -1) {
    rest = text.slice(close + 1);
    text = text.slice(0, close + 1);
  }
  const m = ONE.exec(text);
  if (m?.[1]) return '$';
  let name = m?.[2] ?? '';
  let braced = false;
  if (!name) {
    name = m?.[3] ?? '';
    braced = true;
  }
  if (!name) throw new InvalidTemplateError();
  if (braced) {
    const r = fn(name, lookup, opts);
    if (r.applied) return r.value + substitute(rest, lookup, opts);
  }
  const v = lookup(name);
  if (v === undefined) {
    opts.onUnset?.(name);
    return '';
  }
  return v;
}
