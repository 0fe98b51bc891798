/**
 * `.env` / `--env-file` / `env_file:` parsing with compose-go's dotenv rules: `KEY=value`, `KEY: value`,
 * `export KEY=...`, spaces around `=`, `#` comments (inline ` #` on unquoted values), single quotes
 * literal (only `\'` unescaped), double quotes with escapes (`\n`, `\t`, `\"`, `\\`, `\$`, `\0ooo`, ...) and
 * multi-line values, `$VAR`/`${VAR...}` expanded (unquoted and double-quoted values) from the lookup
 * first, then keys defined earlier in the file; a bare `KEY` line takes the lookup's value (or nothing).
 * A UTF-8 BOM is ignored.
 */
import fs from 'node:fs';
import path from 'node:path';
import { composeError } from './errors.js';
import { substitute, type Lookup } from './template.js';

export type EnvMap = Map<string, string>;

const noLookup: Lookup = () => undefined;

/** Whitespace on one line (Go's dotenv isSpace: no line breaks). */
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\v' || c === '\f' || c === '\r' || c === '\x85' || c === '\xa0';
const isAnySpace = (c: string): boolean => /\s/u.test(c) || c === '\x85';

class Parser {
  line = 1;

  parse(src: string, out: EnvMap, lookup: Lookup): void {
    let rest = src;
    for (;;) {
      rest = this.statementStart(rest);
      if (rest === '') return;
      const { key, left, inherited } = this.keyName(rest);
      if (key.includes(' ')) throw new Error(`line ${this.line}: key cannot contain a space`);
      if (inherited) {
        const v = lookup(key);
        if (v !== undefined) out.set(key, v);
        rest = left;
        continue;
      }
      const { value, left: after } = this.value(left, out, lookup);
      out.set(key, value);
      rest = after;
    }
  }

  private statementStart(src: string): string {
    for (;;) {
      let i = 0;
      while (i < src.length && isAnySpace(src[i]!)) {
        if (src[i] === '\n') this.line++;
        i++;
      }
      if (i >= src.length) return '';
      src = src.slice(i);
      if (src[0] !== '#') return src;
      const nl = src.indexOf('\n');
      if (nl < 0) return '';
      src = src.slice(nl);
    }
  }

  private keyName(src: string): { key: string; left: string; inherited: boolean } {
    if (/^export\s+/.test(src)) {
      src = src.slice('export'.length);
      let i = 0;
      while (i < src.length && isSpace(src[i]!)) i++;
      src = src.slice(i);
    }
    let key: string | undefined;
    let offset = 0;
    let inherited = false;
    for (const [i, c] of indexedChars(src)) {
      if (isSpace(c)) continue;
      if (c === '=' || c === ':' || c === '\n') {
        key = src.slice(0, i);
        offset = i + 1;
        inherited = c === '\n';
        break;
      }
      if (c === '_' || c === '.' || c === '-' || c === '[' || c === ']' || /[\p{L}\p{N}]/u.test(c)) continue;
      throw new Error(`line ${this.line}: unexpected character ${JSON.stringify(c)} in variable name ${JSON.stringify(src.split('\n')[0])}`);
    }
    if (key === undefined) {
      // a bare KEY on the last line, without a newline (compose-go would make it an empty-named key)
      key = src;
      offset = src.length;
      inherited = true;
    }
    if (inherited && !key.includes(' ')) this.line++;
    key = key.replace(/\s+$/u, '');
    let j = offset;
    while (j < src.length && isSpace(src[j]!)) j++;
    return { key, left: src.slice(j), inherited };
  }

  private value(src: string, env: EnvMap, lookup: Lookup): { value: string; left: string } {
    const quote = src[0];
    if (quote !== '"' && quote !== "'") {
      const nl = src.indexOf('\n');
      let value = nl < 0 ? src : src.slice(0, nl);
      const left = nl < 0 ? '' : src.slice(nl + 1);
      this.line++;
      const hash = value.indexOf(' #');
      if (hash >= 0) value = value.slice(0, hash);
      value = value.replace(/\s+$/u, '');
      return { value: expand(value, env, lookup), left };
    }
    let escaped = false;
    let chars = '';
    for (let i = 1; i < src.length; i++) {
      const c = src[i]!;
      if (c === '\n') this.line++;
      if (c !== quote) {
        if (!escaped && c === '\\') {
          escaped = true;
          continue;
        }
        if (escaped) {
          escaped = false;
          chars += '\\';
        }
        chars += c;
        continue;
      }
      if (escaped) {
        escaped = false;
        chars += c;
        continue;
      }
      const value = quote === '"' ? expand(expandEscapes(chars), env, lookup) : chars;
      return { value, left: src.slice(i + 1) };
    }
    const nl = src.indexOf('\n');
    throw new Error(`line ${this.line}: unterminated quoted value ${nl < 0 ? src : src.slice(0, nl)}`);
  }
}

function* indexedChars(s: string): Generator<[number, string]> {
  let i = 0;
  for (const c of s) {
    yield [i, c];
    i += c.length;
  }
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '"': '"', '\\': '\\' };

function expandEscapes(s: string): string {
  return s.replace(/\\(?:[abcfnrtv$"\\]|0\d{0,3})/g, (m) => {
    if (m === '\\$') return '$$'; // the template's escape: `\$x` stays a literal `$x`
    if (m.startsWith('\\0')) {
      const oct = m.slice(2);
      if (/^[0-7]{3}$/.test(oct) && parseInt(oct, 8) <= 255) return String.fromCharCode(parseInt(oct, 8));
      return m;
    }
    return ESCAPES[m[1]!] ?? m;
  });
}

function expand(value: string, env: EnvMap, lookup: Lookup): string {
  return substitute(value, (k) => lookup(k) ?? env.get(k));
}

/** Parses dotenv text into `out` (later keys win). Errors name the line. */
export function parseDotenv(text: string, lookup: Lookup = noLookup, out: EnvMap = new Map()): EnvMap {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  new Parser().parse(text, out, lookup);
  return out;
}

function readEnvText(file: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw composeError(`couldn't find env file: ${file}`);
  }
  if (st.isDirectory()) throw composeError(`${file} is a directory`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw composeError(`couldn't read env file: ${file}: ${(e as Error).message}`);
  }
}

/** One env file into `out` ("failed to read FILE: line N: ..." on a syntax error). */
export function readEnvFile(file: string, lookup: Lookup = noLookup, out: EnvMap = new Map()): EnvMap {
  const text = readEnvText(file);
  try {
    return parseDotenv(text, lookup, out);
  } catch (e) {
    throw composeError(`failed to read ${file}: ${(e as Error).message}`);
  }
}

/**
 * The project environment's env files (`.env`, `--env-file`), later files winning: variables in a file
 * resolve from `current` (the process environment) first, then from what the files set so far.
 */
export function envFromFiles(current: ReadonlyMap<string, string>, files: readonly string[], cwd = process.cwd()): EnvMap {
  const out: EnvMap = new Map();
  for (const f of files) readEnvFile(path.resolve(cwd, f), (k) => current.get(k) ?? out.get(k), out);
  return out;
}

/** godotenv's Read: files parsed in order without a lookup, keys starting with a digit dropped. */
export function readDotenvFiles(files: readonly string[], lookup: Lookup = noLookup): EnvMap {
  const out: EnvMap = new Map();
  for (const f of files) {
    for (const [k, v] of readEnvFile(f, lookup)) if (!/^\s*\d/.test(k)) out.set(k, v);
  }
  return out;
}
