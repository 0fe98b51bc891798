/**
 * A fast path for the plain YAML most compose files are: one document of block mappings and
 * sequences, one-line flow sequences of scalars, plain and quoted one-line scalars, comments. It gives
 * what yaml.ts's Walker gives for such a file (values with the core schema's types and go-yaml's
 * `0440` octal, the line of each key and item) without the `yaml` package's composer, which was the
 * largest part of `compose config` (bench/README.md). Anything else — anchors, aliases, tags, block
 * scalars, flow mappings, multi-line or escaped scalars, several documents, merge keys, duplicate or
 * odd keys, tabs — returns undefined, and the `yaml` package reads the file (its values, its errors).
 * test/unit/compose-yaml-fast.test.ts checks both readers agree on every compose file of the corpus.
 */
import { formatPath, type Json, type JsonMap, type TreePath } from './tree.js';

interface Line {
  /** 1-based line number */
  no: number;
  indent: number;
  text: string;
}

class Unsupported extends Error {}
const no = (): never => {
  throw new Unsupported();
};

/** A scalar's value as the core schema (and Walker's octal rule) types a plain one. */
function plainValue(s: string): Json {
  if (/^(?:~|[Nn]ull|NULL)?$/.test(s)) return null;
  if (/^(?:[Tt]rue|TRUE)$/.test(s)) return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(s)) return false;
  if (/^[-+]?[0-9]+$/.test(s)) return /^0[0-7]+$/.test(s) ? parseInt(s, 8) : Number(s);
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.slice(2), 8);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(s)) return parseFloat(s);
  if (/^[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)$/.test(s)) no();
  return s;
}

/** A quoted scalar at the start of `s`: its value and the rest of the text after it. */
function quoted(s: string): { value: string; rest: string } {
  const q = s[0]!;
  if (q === '"') {
    const end = s.indexOf('"', 1);
    if (end < 0) no();
    const body = s.slice(1, end);
    if (body.includes('\\')) no();
    return { value: body, rest: s.slice(end + 1) };
  }
  let i = 1;
  let value = '';
  for (;;) {
    const end = s.indexOf("'", i);
    if (end < 0) no();
    value += s.slice(i, end);
    if (s[end + 1] === "'") {
      value += "'";
      i = end + 2;
      continue;
    }
    return { value, rest: s.slice(end + 1) };
  }
}

/** The rest of a line after a value: nothing or a comment. */
function endOfValue(rest: string): void {
  const t = rest.trimStart();
  if (t !== '' && !(t.startsWith('#') && (rest.length > t.length))) no();
}

/** A plain scalar (block context): up to a comment. */
function plain(s: string, flow: boolean): string {
  if (/^[[\]{}#&*!|>%@`,?:'"]/.test(s) || /^-(?:\s|$)/.test(s)) no();
  let v = s;
  const c = v.search(/\s#/);
  if (c >= 0) v = v.slice(0, c);
  v = v.trimEnd();
  if (/:(?:\s|$)/.test(v) || (flow && /[[\]{}]/.test(v))) no();
  return v;
}

/** A value on the line of its key or dash: a scalar or a one-line flow sequence. */
function inlineValue(s: string, path: TreePath, no_: number, lines: Map<string, number>): Json {
  if (s.startsWith('"') || s.startsWith("'")) {
    const { value, rest } = quoted(s);
    endOfValue(rest);
    return value;
  }
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) no();
    endOfValue(s.slice(close + 1));
    const body = s.slice(1, close).trim();
    const out: Json[] = [];
    if (body === '') return out;
    let rest = body;
    for (;;) {
      rest = rest.trimStart();
      let item: Json;
      if (rest.startsWith('"') || rest.startsWith("'")) {
        const q = quoted(rest);
        item = q.value;
        rest = q.rest.trimStart();
      } else {
        const comma = rest.indexOf(',');
        const text = (comma < 0 ? rest : rest.slice(0, comma)).trim();
        if (text === '' || text.includes('#')) no();
        item = plainValue(plain(text, true));
        rest = comma < 0 ? '' : rest.slice(comma);
      }
      lines.set(formatPath([...path, out.length]), no_);
      out.push(item);
      if (rest === '') return out;
      if (!rest.startsWith(',')) no();
      rest = rest.slice(1);
      if (rest.trim() === '') no(); // a trailing comma: the yaml package decides
    }
  }
  if (s === '{}') return {};
  return plainValue(plain(s, false));
}

/** `key: rest` at the start of `s`: the key and what follows the colon (undefined: not a key). */
function splitKey(s: string): { key: string; rest: string } | undefined {
  if (s.startsWith('"') || s.startsWith("'")) {
    const { value, rest } = quoted(s);
    const m = /^\s*:(?:\s+|$)/.exec(rest);
    if (!m) return undefined;
    return { key: value, rest: rest.slice(m[0].length) };
  }
  const m = /:(?:\s+|$)/.exec(s);
  if (!m) return undefined;
  const key = s.slice(0, m.index);
  if (key === '' || key !== key.trim() || /^[[\]{}#&*!|>%@`,?:'"-]/.test(key) || /\s#|[{}[\],]/.test(key) || key === '<<' || key === '__proto__') no();
  // a key the core schema reads as a number, bool or null: the yaml package's String() of it
  if (typeof plainValue(key) !== 'string') no();
  return { key, rest: s.slice(m.index + m[0].length) };
}

class Reader {
  i = 0;
  readonly lines = new Map<string, number>();
  constructor(private readonly src: Line[]) {}

  peek(): Line | undefined {
    return this.src[this.i];
  }

  /** The block node whose first line is the next one, at indent `indent`. */
  block(indent: number, path: TreePath): Json {
    const l = this.peek();
    if (!l || l.indent !== indent) no();
    if (l!.text === '-' || l!.text.startsWith('- ')) return this.seq(indent, path);
    return this.map(indent, path, undefined);
  }

  /** The value after `key:` with nothing on its line: a deeper block, a sequence at the key's indent, or null. */
  after(indent: number, path: TreePath, seqAtSame: boolean): Json {
    const n = this.peek();
    if (n && n.indent > indent) return this.block(n.indent, path);
    if (seqAtSame && n && n.indent === indent && (n.text === '-' || n.text.startsWith('- '))) return this.seq(indent, path);
    return null;
  }

  seq(indent: number, path: TreePath): Json[] {
    const out: Json[] = [];
    for (let l = this.peek(); l && l.indent === indent && (l.text === '-' || l.text.startsWith('- ')); l = this.peek()) {
      const p = [...path, out.length];
      this.i++;
      const rest = l.text.slice(1);
      const content = rest.trimStart();
      if (content === '' || content.startsWith('#')) no(); // an item on the next lines
      const col = indent + 1 + (rest.length - content.length);
      this.lines.set(formatPath(p), l.no);
      const kv = splitKey(content);
      out.push(kv ? this.map(col, p, { key: kv.key, rest: kv.rest, no: l.no }) : inlineValue(content, p, l.no, this.lines));
      const n = this.peek();
      if (n && n.indent > indent && !kv) no();
    }
    return out;
  }

  /** A block mapping at `indent`; `first`: its first entry when it started on a dash's line. */
  map(indent: number, path: TreePath, first: { key: string; rest: string; no: number } | undefined): JsonMap {
    const out: JsonMap = {};
    const entry = (key: string, rest: string, no_: number): void => {
      if (Object.prototype.hasOwnProperty.call(out, key)) no();
      const p = [...path, key];
      this.lines.set(formatPath(p), no_);
      const value = rest === '' || rest.startsWith('#') ? this.after(indent, p, true) : inlineValue(rest, p, no_, this.lines);
      out[key] = value;
      const n = this.peek();
      if (n && n.indent > indent) no(); // a continuation of a plain scalar, or a misplaced block
    };
    if (first) entry(first.key, first.rest, first.no);
    for (let l = this.peek(); l && l.indent === indent; l = this.peek()) {
      if (l.text === '-' || l.text.startsWith('- ')) break;
      const kv = splitKey(l.text);
      if (!kv) no();
      this.i++;
      entry(kv!.key, kv!.rest, l.no);
    }
    return out;
  }
}

/** The file's one document (undefined: not in the subset; no document: null value). */
export function fastYaml(text: string): { value: Json; lines: Map<string, number> } | undefined {
  if (text.includes('\t') || text.includes('\r') || text.charCodeAt(0) === 0xfeff) return undefined;
  const src: Line[] = [];
  const raw = text.split('\n');
  for (let n = 0; n < raw.length; n++) {
    const s = raw[n]!;
    const t = s.trimStart();
    if (t === '' || t.startsWith('#')) continue;
    if (/^(?:---|\.\.\.)(?:\s|$)/.test(s) || s.startsWith('%')) return undefined;
    src.push({ no: n + 1, indent: s.length - t.length, text: t.trimEnd() });
  }
  if (!src.length) return undefined;
  try {
    const r = new Reader(src);
    if (src[0]!.indent !== 0) return undefined;
    const value = r.block(0, []);
    if (r.i !== src.length || Array.isArray(value)) return undefined;
    return { value, lines: r.lines };
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}
