/**
 * Shell-word processing as BuildKit's `shell.Lex` does it: quote removal, escapes, `$VAR` / `${VAR}`
 * expansion with the POSIX-ish modifiers Dockerfiles support, and (for processWords) splitting the
 * result into words. This is what Docker applies to the arguments of ENV, ARG, LABEL, COPY, ADD,
 * WORKDIR, USER, VOLUME, EXPOSE, STOPSIGNAL and FROM — never to a shell-form RUN/CMD/ENTRYPOINT,
 * whose text goes to the shell untouched.
 *
 * Supported: `$NAME`, `${NAME}`, `${NAME:-w}`, `${NAME-w}`, `${NAME:+w}`, `${NAME+w}`,
 * `${NAME:?msg}`, `${NAME?msg}`, `${NAME#pat}`, `${NAME##pat}`, `${NAME%pat}`, `${NAME%%pat}`,
 * `${NAME/pat/repl}`, `${NAME//pat/repl}` (patterns: `*`, `?`, `\` escapes; no bracket expressions).
 * Positional and special parameters (`$1`, `$@`, `$#`, `$$`, ...) are never set. `'...'` is literal;
 * inside `"..."` the escape token escapes only `"`, `$` and itself.
 *
 * One deliberate difference from BuildKit ≥ 0.15: BuildKit shares one word buffer between a word and
 * a nested `${...}` inside it, so with word splitting `80${X:-/tcp}` loses its `80`. We keep the
 * intended behaviour (`80/tcp`); single-word expansion (processWord) is unaffected either way.
 */
import { SkiffError } from '../../errors.js';
import { isSpace } from './util.js';
import { goQuote } from '../../lib/strconv.js';

export type EscapeToken = '\\' | '`';

/**
 * Variables for expansion: a Map, a plain object, Docker's `KEY=value` list (last one wins; an
 * entry without `=` is set to the empty string), or a lookup function (undefined: not set).
 */
export type Env =
  | ReadonlyMap<string, string>
  | Readonly<Record<string, string>>
  | readonly string[]
  | ((name: string) => string | undefined);

/**
 * The most one expansion may produce, in UTF-16 code units: every word of one instruction together
 * (BuildKit has no limit; `ENV X=$X$X` repeated doubles without end). 1 MiB is far above real
 * values (a value passed to a process is capped at 128 KiB by the kernel anyway) and stops such a
 * Dockerfile after ~20 doublings instead of exhausting memory.
 */
export const MAX_EXPANSION = 1 << 20;

export interface LexOptions {
  /** Escape token (the Dockerfile's `# escape=` directive); default `\`. */
  escape?: EscapeToken;
  /** Keep quote characters in the result (quotes still group). */
  rawQuotes?: boolean;
  /** Keep escape tokens in the result (they still escape). */
  rawEscapes?: boolean;
  /** Treat `'` and `"` as ordinary characters (used for heredoc bodies). */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written (`$X`, `${X:-y}`) instead of expanding them. */
  skipUnsetEnv?: boolean;
}

export interface ProcessResult {
  /** The single expanded word (quotes removed, whitespace kept). */
  result: string;
  /** The expansion split into words (unquoted whitespace separates; quoted whitespace does not). */
  words: string[];
  /** Variables referenced that were set / not set. */
  matched: Set<string>;
  unmatched: Set<string>;
}

const EOF = -1;
const CH = (s: string): number => s.codePointAt(0)!;
const DOLLAR = CH('$');
const LT = CH('<');
const SQUOTE = CH("'");
const DQUOTE = CH('"');
const LBRACE = CH('{');
const RBRACE = CH('}');
const COLON = CH(':');
const SLASH = CH('/');

const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;

function isLetter(cp: number): boolean {
  return cp >= 0 && (cp < 0x80 ? (cp | 0x20) >= 0x61 && (cp | 0x20) <= 0x7a : LETTER.test(String.fromCodePoint(cp)));
}
function isDigit(cp: number): boolean {
  return cp >= 0 && (cp < 0x80 ? cp >= 0x30 && cp <= 0x39 : DIGIT.test(String.fromCodePoint(cp)));
}
function isSpecialParam(cp: number): boolean {
  return cp >= 0 && '@*#?-$!0'.includes(String.fromCodePoint(cp));
}
function chr(cp: number): string {
  // Go's string(rune(-1)) is U+FFFD; it only shows up in error messages.
  return cp < 0 ? '\ufffd' : String.fromCodePoint(cp);
}

/** Internal failure; turned into a SkiffError naming the word at the top. */
class LexError extends Error {}

type EnvGet = (name: string) => string | undefined;

export function envGetter(env: Env): EnvGet {
  if (typeof env === 'function') return env;
  if (Array.isArray(env)) {
    const m = new Map<string, string>();
    for (const e of env as readonly string[]) {
      const i = e.indexOf('=');
      if (i < 0) m.set(e, '');
      else m.set(e.slice(0, i), e.slice(i + 1));
    }
    return (k) => m.get(k);
  }
  if (env instanceof Map) return (k) => (env as ReadonlyMap<string, string>).get(k);
  const o = env as Readonly<Record<string, string>>;
  return (k) => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);
}

class Words {
  buf = '';
  words: string[] = [];
  inWord = false;

  addChar(cp: number): void {
    if (isSpace(cp)) {
      if (this.inWord && this.buf.length !== 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else {
      this.addRawChar(cp);
    }
  }
  addRawChar(cp: number): void {
    this.buf += String.fromCodePoint(cp);
    this.inWord = true;
  }
  addString(s: string): void {
    for (const c of s) this.addChar(c.codePointAt(0)!);
  }
  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  get(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class ShellWord {
  private readonly cps: number[];
  private pos = 0;
  private rawEscapes: boolean;
  private readonly escape: number;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(
    word: string,
    private readonly env: EnvGet,
    private readonly opts: LexOptions,
    /** The longest result (or part of one) this word may expand to. */
    private readonly limit = Infinity,
  ) {
    this.cps = Array.from(word, (c) => c.codePointAt(0)!);
    // Go's text/scanner ignores a byte-order mark at the very start.
    if (this.cps[0] === 0xfeff) this.pos = 1;
    this.rawEscapes = !!opts.rawEscapes;
    this.escape = CH(opts.escape ?? '\\');
  }

  private peek(): number {
    return this.pos < this.cps.length ? this.cps[this.pos]! : EOF;
  }
  private next(): number {
    const c = this.peek();
    if (c !== EOF) this.pos++;
    return c;
  }

  run(): [string, string[]] {
    return this.processStopOn(EOF, this.rawEscapes);
  }

  /** `s` once it is known to fit the limit (checked as a result grows, so a doubling stops before it allocates). */
  private bounded(s: string): string {
    if (s.length > this.limit) throw new LexError(`the expansion is larger than ${MAX_EXPANSION} characters, skiff's limit for what variables add to one instruction`);
    return s;
  }

  private processStopOn(stop: number, rawEscapes: boolean): [string, string[]] {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = new Words();
      const quotes = !this.opts.skipProcessQuotes;
      while (this.peek() !== EOF) {
        const c = this.peek();
        if (stop !== EOF && c === stop) {
          this.next();
          return [result, words.get()];
        }
        if (c === DOLLAR) {
          const tmp = this.processDollar();
          result = this.bounded(result + tmp);
          words.addString(tmp);
        } else if (c === LT) {
          const tmp = this.processPossibleHeredoc();
          result += tmp;
          words.addRawString(tmp);
        } else if (quotes && c === SQUOTE) {
          const tmp = this.processSingleQuote();
          result += tmp;
          words.addRawString(tmp);
        } else if (quotes && c === DQUOTE) {
          const tmp = this.processDoubleQuote();
          result += tmp;
          words.addRawString(tmp);
        } else {
          let ch = this.next();
          if (ch === this.escape) {
            if (this.rawEscapes) {
              words.addRawChar(ch);
              result += chr(ch);
            }
            // the escape token escapes the next character, except at the end of the word
            ch = this.next();
            if (ch === EOF) break;
            words.addRawChar(ch);
          } else {
            words.addChar(ch);
          }
          result += chr(ch);
        }
      }
      if (stop !== EOF) throw new LexError(`unexpected end of statement while looking for matching ${chr(stop)}`);
      return [result, words.get()];
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    // everything up to the next ' is literal; ' cannot be escaped inside
    let result = '';
    const open = this.next();
    if (this.opts.rawQuotes) result += chr(open);
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === SQUOTE) {
        if (this.opts.rawQuotes) result += chr(ch);
        return result;
      }
      result += chr(ch);
    }
  }

  private processDoubleQuote(): string {
    // literal except $ expansions; the escape token escapes only " $ and itself
    let result = '';
    const open = this.next();
    if (this.opts.rawQuotes) result += chr(open);
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (p === DQUOTE) {
        const ch = this.next();
        if (this.opts.rawQuotes) result += chr(ch);
        return result;
      }
      if (p === DOLLAR) {
        result = this.bounded(result + this.processDollar());
        continue;
      }
      let ch = this.next();
      if (ch === this.escape) {
        if (this.rawEscapes) result += chr(ch);
        const q = this.peek();
        if (q === EOF) continue; // a trailing escape is dropped (the missing quote fails next round)
        if (q === DQUOTE || q === DOLLAR || q === this.escape) ch = this.next();
      }
      result += chr(ch);
    }
  }

  private getEnv(name: string): string | undefined {
    const v = this.env(name);
    if (v !== undefined) this.matched.add(name);
    else this.unmatched.add(name);
    return v;
  }

  private processDollar(): string {
    this.next(); // $
    if (this.peek() !== LBRACE) {
      const name = this.processName();
      if (name === '') return '$';
      const v = this.getEnv(name);
      if (v === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return v ?? '';
    }
    this.next(); // {
    const first = this.peek();
    if (first === EOF) throw new LexError("syntax error: missing '}'");
    if (first === LBRACE || first === RBRACE || first === COLON) throw new LexError('syntax error: bad substitution');

    const name = this.processName();
    let ch = this.next();
    let chs = chr(ch);
    let nullIsUnset = false;

    if (ch === RBRACE) {
      const v = this.getEnv(name);
      if (v === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
      return v ?? '';
    }
    if (ch === COLON) {
      nullIsUnset = true;
      ch = this.next();
      chs += chr(ch);
    }
    if (nullIsUnset || '+-?#%'.includes(chr(ch))) {
      const op = chr(ch);
      const patternOp = op === '#' || op === '%';
      if (nullIsUnset && patternOp) throw new LexError(`unsupported modifier (${chs}) in substitution`);
      let word: string;
      try {
        [word] = this.processStopOn(RBRACE, patternOp);
      } catch (e) {
        if (e instanceof LexError && this.peek() === EOF) throw new LexError("syntax error: missing '}'");
        throw e;
      }
      const value = this.getEnv(name);
      if (this.opts.skipUnsetEnv && value === undefined) return `\${${name}${chs}${word}}`;
      const unsetOrNull = value === undefined || (nullIsUnset && value === '');
      switch (op) {
        case '-':
          return unsetOrNull ? word : value!;
        case '+':
          return unsetOrNull ? '' : word;
        case '?':
          if (value === undefined) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
          if (nullIsUnset && value === '') throw new LexError(`${name}: ${word || 'is not allowed to be empty'}`);
          return value;
        case '#':
        case '%': {
          let greedy = false;
          if (word.startsWith(op)) {
            greedy = true;
            word = word.slice(1);
          }
          return op === '%' ? trimSuffix(word, value ?? '', greedy) : trimPrefix(word, value ?? '', greedy);
        }
        default:
          throw new LexError(`unsupported modifier (${chs}) in substitution`);
      }
    }
    if (ch === SLASH) {
      const replaceAll = this.peek() === SLASH;
      if (replaceAll) this.next();
      let pattern: string;
      let replacement: string;
      try {
        [pattern] = this.processStopOn(SLASH, true);
      } catch (e) {
        if (e instanceof LexError && this.peek() === EOF) throw new LexError("syntax error: missing '/' in ${}");
        throw e;
      }
      try {
        [replacement] = this.processStopOn(RBRACE, true);
      } catch (e) {
        if (e instanceof LexError && this.peek() === EOF) throw new LexError("syntax error: missing '}'");
        throw e;
      }
      const value = this.getEnv(name);
      if (this.opts.skipUnsetEnv && value === undefined) return `\${${name}/${pattern}/${replacement}}`;
      const re = patternRegex(pattern, true, false);
      const v = value ?? '';
      if (replaceAll) return goReplaceAll(re, v, replacement, (o) => this.bounded(o));
      re.lastIndex = 0;
      const m = re.exec(v);
      return m ? v.slice(0, m.index) + replacement + v.slice(m.index + m[0].length) : v;
    }
    throw new LexError(`unsupported modifier (${chs}) in substitution`);
  }

  /** A name: letters, digits, `_`; or a run of digits (positional); or one special parameter. */
  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const c = this.peek();
      if (name === '' && isDigit(c)) {
        while (this.peek() !== EOF && isDigit(this.peek())) name += chr(this.next());
        return name;
      }
      if (name === '' && isSpecialParam(c)) return chr(this.next());
      if (!isLetter(c) && !isDigit(c) && c !== CH('_')) break;
      name += chr(this.next());
    }
    return name;
  }

  /** `<<` is kept together with the blanks after it, so `<< EOF` stays one word for heredoc detection. */
  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== LT) return '<';
    this.next();
    let result = '<<';
    for (let c = this.peek(); c === 0x09 || c === 0x0d || c === 0x20; c = this.peek()) {
      result += chr(c);
      this.next();
    }
    return result;
  }
}

/**
 * A shell pattern (`*`, `?`, `\` escapes) as a RegExp. `\}` and `\/` (needed inside `${}`) stand
 * for the plain character. Go's `.` excludes only `\n`, hence `[^\n]`.
 */
export function patternRegex(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  const cps = Array.from(pattern);
  let out = anchored ? '^' : '';
  const star = greedy ? '[^\\n]*' : '[^\\n]*?';
  for (let i = 0; i < cps.length; i++) {
    let tok = cps[i]!;
    switch (tok) {
      case '*':
        out += star;
        continue;
      case '?':
        out += '[^\\n]';
        continue;
      case '\\': {
        const nx = cps[i + 1];
        if (nx === '}' || nx === '/') continue;
        out += '\\';
        i++;
        tok = cps[i] ?? '';
        if (tok !== '*' && tok !== '?' && tok !== '\\') {
          throw new LexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${tok || '\ufffd'}'`);
        }
        break;
      }
      case '[': case ']': case '{': case '}': case '.': case '+': case '(': case ')': case '|': case '^': case '$':
        out += '\\';
        break;
    }
    out += tok;
  }
  return new RegExp(out, 'gu');
}

/** Go's Regexp.ReplaceAllString: `$name`/`${name}` in the replacement refer to (absent) groups. */
/** `bound` checks the output as it grows (a long value with many matches multiplies the replacement). */
function goReplaceAll(re: RegExp, src: string, repl: string, bound: (s: string) => string = (x) => x): string {
  const expanded = repl.replace(/\$(\$|\{[A-Za-z0-9_]+\}|[A-Za-z0-9_]+)/g, (_m, g: string) => (g === '$' ? '$' : ''));
  let out = '';
  let lastEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    re.lastIndex = searchPos;
    const m = re.exec(src);
    if (!m) break;
    const a0 = m.index;
    const a1 = a0 + m[0].length;
    out += src.slice(lastEnd, a0);
    // no replacement for an empty match right after the previous match
    if (a1 > lastEnd || a0 === 0) out = bound(out + expanded);
    lastEnd = a1;
    const cp = src.codePointAt(searchPos);
    const width = cp === undefined ? 1 : cp > 0xffff ? 2 : 1;
    if (searchPos + width > a1) searchPos += width;
    else if (searchPos + 1 > a1) searchPos++;
    else searchPos = a1;
  }
  return out + src.slice(lastEnd);
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const re = patternRegex(pattern, greedy, true);
  re.lastIndex = 0;
  const m = re.exec(value);
  return m && m.index === 0 ? value.slice(m[0].length) : value;
}

/** Reverse a pattern keeping `\x` escapes in front of the character they escape. */
function reversePattern(pattern: string): string {
  const p = Array.from(pattern);
  const out: string[] = new Array(p.length);
  const last = p.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = p[i]!;
    const o = last - i;
    if (tok === '\\' && i !== last) {
      out[o - 1] = tok;
      out[o] = p[i + 1]!;
      i += 2;
    } else {
      out[o] = tok;
      i++;
    }
  }
  return out.join('');
}

function reverseString(s: string): string {
  return Array.from(s).reverse().join('');
}

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // shortest/longest rightmost match = leftmost match on the reversed strings
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/**
 * A reusable lexer with fixed options (BuildKit's `shell.NewLex` + its option fields). One lexer
 * expands one instruction: what its variables add to all the words it expands (beyond their own
 * text) is bounded by MAX_EXPANSION together.
 */
export class ShellLex {
  private added = 0;
  constructor(readonly options: LexOptions = {}) {}

  processWordWithMatches(word: string, env: Env): ProcessResult {
    const sw = new ShellWord(word, envGetter(env), this.options, word.length + MAX_EXPANSION - this.added);
    try {
      const [result, words] = sw.run();
      this.added += Math.max(0, result.length - word.length);
      return { result, words, matched: sw.matched, unmatched: sw.unmatched };
    } catch (e) {
      if (e instanceof LexError) throw new SkiffError('EINVAL', `failed to process ${goQuote(word)}: ${e.message}`);
      throw e;
    }
  }

  /** Expand `word` into one string (quotes removed, whitespace kept). */
  processWord(word: string, env: Env): string {
    return this.processWordWithMatches(word, env).result;
  }

  /** Expand `word` and split it into words (exec-form / EXPOSE style). */
  processWords(word: string, env: Env): string[] {
    return this.processWordWithMatches(word, env).words;
  }
}

/** Expand one word as Docker does for ENV/COPY/WORKDIR/... arguments. Throws SkiffError('EINVAL'). */
export function processWord(word: string, env: Env, opts: LexOptions = {}): string {
  return new ShellLex(opts).processWord(word, env);
}

/** Expand and split into words. Throws SkiffError('EINVAL'). */
export function processWords(word: string, env: Env, opts: LexOptions = {}): string[] {
  return new ShellLex(opts).processWords(word, env);
}

/** The expander BuildKit uses for instruction arguments: processWord with the file's escape token. */
export function wordExpander(env: Env, escape: EscapeToken = '\\'): (word: string) => string {
  const lex = new ShellLex({ escape });
  return (w) => lex.processWord(w, env);
}

/** The expander BuildKit uses for heredoc bodies with an unquoted delimiter: quotes are not special. */
export function heredocExpander(env: Env): (word: string) => string {
  const lex = new ShellLex({ escape: '\\', skipProcessQuotes: true });
  return (w) => lex.processWord(w, env);
}
