/**
 * Dockerfile → AST, with the same tree and quirks as BuildKit's `frontend/dockerfile/parser`:
 * parser directives (`# syntax=`, `# escape=`, `# check=`) only at the very top, line continuation
 * with the escape token, comments and empty lines inside continuations dropped (the latter with a
 * warning), exec-form (JSON) detection, heredocs, and per-instruction argument splitting. `dump()`
 * prints the tree exactly as BuildKit's `Node.Dump()` (the format of its parser `result` files).
 *
 * The AST keeps arguments raw (quotes and escapes intact): quote removal and variable expansion
 * happen later, per instruction, with the environment current at that point (see shell.ts).
 */
import { SkiffError } from '../../errors.js';
import { ShellLex, type EscapeToken } from './shell.js';
import { goQuoteList, isSpace, trimLeftSpace, trimSpace, wellFormed } from './util.js';
import { goQuote } from '../../lib/strconv.js';

export interface Heredoc {
  /** The delimiter word with quotes removed (`<<'EOF'` → `EOF`). */
  name: string;
  /** `3<<EOF` → 3; 0 when not given. */
  fileDescriptor: number;
  /** False when any part of the delimiter was quoted: the body is then taken literally. */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from the body lines (and the delimiter line may be indented). */
  chomp: boolean;
  /** The body, every line with its newline, tabs NOT yet stripped (see chompHeredocContent). */
  content: string;
}

export interface Node {
  /** The instruction keyword as written (root: ''), or an argument's text. */
  value: string;
  /** Next argument in the list. */
  next: Node | null;
  /** Root: the instructions. An ONBUILD argument: the nested instruction. */
  children: Node[];
  heredocs: Heredoc[];
  /** `{ json: true }` when the arguments were given in exec (JSON array) form. */
  attributes: Record<string, boolean>;
  /** The logical line (continuations joined) the instruction was parsed from. */
  original: string;
  /** Builder flags (`--from=x`), quotes and escapes removed. */
  flags: string[];
  /** 1-based, inclusive; the last line includes heredoc bodies. 0 for argument nodes. */
  startLine: number;
  endLine: number;
  /** Comment lines directly above the instruction (without `#`). */
  prevComment: string[];
}

export interface ParseWarning {
  short: string;
  detail: string;
  url: string;
  line: number;
}

export interface Directive {
  name: 'syntax' | 'escape' | 'check';
  value: string;
  line: number;
}

export interface ParseResult {
  ast: Node;
  escapeToken: EscapeToken;
  warnings: ParseWarning[];
  directives: Directive[];
}

/** Lines longer than bufio.Scanner's buffer fail in BuildKit; we keep the same limit. */
const MAX_LINE_BYTES = 64 * 1024;

const RE_WHITESPACE = /[\t\v\f\r ]+/;
const RE_WHITESPACE_G = /[\t\v\f\r ]+/g;
const RE_HEREDOC = /^([0-9]*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const RE_DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*([^\n]+?)[\t\n\f\r ]*$/;

const HEREDOC_INSTRUCTIONS = new Set(['add', 'copy', 'run']);

export function newNode(value = ''): Node {
  return {
    value, next: null, children: [], heredocs: [], attributes: {}, original: '', flags: [],
    startLine: 0, endLine: 0, prevComment: [],
  };
}

/** An error raised while handling one logical line; becomes `<file>:<line>: <INSTR>: <msg>`. */
class LineError extends Error {}

interface ParserState {
  escape: EscapeToken;
  continuation: RegExp;
}

function continuationRegex(escape: EscapeToken): RegExp {
  const e = escape === '\\' ? '\\\\' : '`';
  // the escape token as the last non-blank character continues the line, unless it is itself
  // escaped (`\\` at the end does not continue); a line holding only the token continues too
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

function newState(escape: EscapeToken = '\\'): ParserState {
  return { escape, continuation: continuationRegex(escape) };
}

// ---------------------------------------------------------------------------------------------
// Argument parsers, one per instruction (BuildKit's dispatch table). Each receives the text after
// the keyword and the flags, trimmed, and returns the first argument node (or null) + attributes.

type ArgParser = (rest: string, st: ParserState) => [Node | null, Record<string, boolean>];

/** Words separated by Unicode whitespace; quotes group and are kept, escape + next char kept. */
export function parseWords(rest: string, escape: EscapeToken = '\\'): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let inSpaces = true;
  let quote = '';
  let inQuote = false;
  let blankOK = false;
  let word = '';
  for (let i = 0; i <= chars.length; i++) {
    const end = i === chars.length;
    let ch = end ? '' : chars[i]!;
    if (inSpaces) {
      if (end) break;
      if (isSpace(ch.codePointAt(0)!)) continue;
      inSpaces = false;
    }
    if (end) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (!inQuote) {
      if (isSpace(ch.codePointAt(0)!)) {
        inSpaces = true;
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        inQuote = true;
      }
      if (ch === escape) {
        if (i + 1 === chars.length) continue; // an escape token at the end is dropped
        // outside quotes the escape token and the next character are both kept, even a quote
        word += ch;
        i++;
        ch = chars[i]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) inQuote = false;
    // inside '...' the escape token is not special
    if (ch === escape && quote !== "'") {
      if (i + 1 === chars.length) {
        inQuote = false;
        continue;
      }
      i++;
      word += ch;
      ch = chars[i]!;
    }
    word += ch;
  }
  return words;
}

function chain(values: string[]): Node | null {
  let head: Node | null = null;
  let prev: Node | null = null;
  for (const v of values) {
    const n = newNode(v);
    if (prev) prev.next = n;
    else head = n;
    prev = n;
  }
  return head;
}

/** ENV/LABEL: `KEY value...` (old form) or `k=v k2=v2` → key, value, separator triples. */
function parseNameVal(rest: string, key: string, st: ParserState): Node | null {
  const words = parseWords(rest, st.escape);
  if (words.length === 0) return null;
  if (!words[0]!.includes('=')) {
    const m = RE_WHITESPACE.exec(rest);
    if (!m) throw new LineError(`${key} must have two arguments`);
    return chain([rest.slice(0, m.index), rest.slice(m.index + m[0].length), '']);
  }
  const values: string[] = [];
  for (const w of words) {
    const i = w.indexOf('=');
    if (i < 0) throw new LineError(`Syntax error - can't find = in ${goQuote(w)}. Must be of the form: name=value`);
    values.push(w.slice(0, i), w.slice(i + 1), '=');
  }
  return chain(values);
}

function parseStringsWhitespaceDelimited(rest: string): [Node | null, Record<string, boolean>] {
  if (rest === '') return [null, {}];
  return [chain(rest.split(RE_WHITESPACE_G)), {}];
}

type JsonResult = { ok: true; node: Node | null } | { ok: false; fatal: boolean };
const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

function parseJSON(rest: string): JsonResult {
  const text = trimLeftSpace(rest);
  if (!text.startsWith('[')) return { ok: false, fatal: false };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, fatal: false };
  }
  if (!Array.isArray(parsed)) return { ok: false, fatal: false };
  const values: string[] = [];
  for (const v of parsed) {
    if (typeof v !== 'string') return { ok: false, fatal: true };
    values.push(wellFormed(v));
  }
  return { ok: true, node: chain(values) };
}

/** RUN/CMD/ENTRYPOINT/SHELL: a JSON string array, else the whole text as one argument. */
const parseMaybeJSON: ArgParser = (rest) => {
  if (rest === '') return [null, {}];
  const j = parseJSON(rest);
  if (j.ok) return [j.node, { json: true }];
  if (j.fatal) throw new LineError(NOT_STRING_ARRAY);
  return [newNode(rest), {}];
};

/** COPY/ADD/VOLUME: a JSON string array, else whitespace-separated (quotes not honoured). */
const parseMaybeJSONToList: ArgParser = (rest) => {
  const j = parseJSON(rest);
  if (j.ok) return [j.node, { json: true }];
  if (j.fatal) throw new LineError(NOT_STRING_ARRAY);
  return parseStringsWhitespaceDelimited(rest);
};

const parseString: ArgParser = (rest) => [rest === '' ? null : newNode(rest), {}];

const parseNameOrNameVal: ArgParser = (rest, st) => [chain(parseWords(rest, st.escape)), {}];

/** HEALTHCHECK: the type word (CMD, NONE, ...) then the rest as for CMD. */
const parseHealthConfig: ArgParser = (rest, st) => {
  let sep = 0;
  while (sep < rest.length && !isSpace(rest.charCodeAt(sep))) sep++;
  let next = sep;
  while (next < rest.length && isSpace(rest.charCodeAt(next))) next++;
  if (sep === 0) return [null, {}];
  const typ = newNode(rest.slice(0, sep));
  const [cmd, attrs] = parseMaybeJSON(rest.slice(next), st);
  typ.next = cmd;
  return [typ, attrs];
};

/** ONBUILD: the rest is an instruction of its own, nested as the argument's child. */
const parseSubCommand: ArgParser = (rest, st) => {
  if (rest === '') return [null, {}];
  const child = newNodeFromLine(rest, st, []);
  const n = newNode();
  n.children = [child];
  return [n, {}];
};

const DISPATCH: Record<string, ArgParser> = {
  add: parseMaybeJSONToList,
  arg: parseNameOrNameVal,
  cmd: parseMaybeJSON,
  copy: parseMaybeJSONToList,
  entrypoint: parseMaybeJSON,
  env: (rest, st) => [parseNameVal(rest, 'ENV', st), {}],
  expose: (rest) => parseStringsWhitespaceDelimited(rest),
  from: (rest) => parseStringsWhitespaceDelimited(rest),
  healthcheck: parseHealthConfig,
  label: (rest, st) => [parseNameVal(rest, 'LABEL', st), {}],
  maintainer: parseString,
  onbuild: parseSubCommand,
  run: parseMaybeJSON,
  shell: parseMaybeJSON,
  stopsignal: parseString,
  user: parseString,
  volume: parseMaybeJSONToList,
  workdir: parseString,
};

/** Unknown instructions keep one empty argument; the instruction layer rejects them. */
const parseIgnore: ArgParser = () => [newNode(), {}];

/**
 * Leading `--name[=value]` words. Returns the remaining text and the flags (quotes and escapes
 * removed). A bare `--` ends the flags and is dropped.
 */
export function extractBuilderFlags(line: string, escape: EscapeToken = '\\'): [string, string[]] {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const end = pos === line.length;
    let ch = end ? '' : line[pos]!;
    if (phase === 'spaces') {
      if (end) break;
      if (isSpace(ch.charCodeAt(0))) continue;
      // only words starting with -- are flags
      if (ch !== '-' || pos + 1 === line.length || line[pos + 1] !== '-') return [line.slice(pos), words];
      phase = 'word';
    }
    if (end) {
      if (word !== '--' && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch.charCodeAt(0))) {
        phase = 'spaces';
        if (word === '--') return [line.slice(pos), words];
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      if (ch === escape) {
        if (pos + 1 === line.length) continue;
        pos++;
        ch = line[pos]!;
      }
      word += ch;
      continue;
    }
    // in quotes
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === escape) {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      pos++;
      ch = line[pos]!;
    }
    word += ch;
  }
  return ['', words];
}

function splitCommand(line: string, st: ParserState): [string, string[], string] {
  const trimmed = trimSpace(line);
  const m = RE_WHITESPACE.exec(trimmed);
  if (!m) return [trimmed, [], ''];
  const [args, flags] = extractBuilderFlags(trimmed.slice(m.index + m[0].length), st.escape);
  return [trimmed.slice(0, m.index), flags, trimSpace(args)];
}

function newNodeFromLine(line: string, st: ParserState, comments: string[]): Node {
  const [cmd, flags, args] = splitCommand(line, st);
  const fn = DISPATCH[cmd.toLowerCase()] ?? parseIgnore;
  const [next, attributes] = fn(args, st);
  const node = newNode(cmd);
  node.original = line;
  node.flags = flags;
  node.next = next;
  node.attributes = attributes;
  node.prevComment = comments;
  return node;
}

// ---------------------------------------------------------------------------------------------
// Heredocs

/**
 * Parse one word as a heredoc opener (`<<EOF`, `<<-"EOF"`, `2<<EOF`, `<< EOF`). Returns null when
 * the word is not one. Throws on an unterminated quote in the delimiter.
 */
export function parseHeredoc(src: string): Omit<Heredoc, 'content'> | null {
  const m = RE_HEREDOC.exec(src);
  if (!m) return null;
  const rest = m[3]!;
  if (rest === '') return null;
  const words = new ShellLex({ skipUnsetEnv: true }).processWords(rest, []);
  if (words.length !== 1) return null;
  const raw = new ShellLex({ skipUnsetEnv: true, rawQuotes: true }).processWords(rest, []);
  if (raw.length !== words.length) {
    throw new LineError(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  }
  const quotes = (s: string): number => s.split("'").length + s.split('"').length - 2;
  return {
    name: words[0]!,
    fileDescriptor: Number(m[1] || 0),
    expand: quotes(words[0]!) === quotes(raw[0]!),
    chomp: m[2] === '-',
  };
}

/** The heredocs opened on a logical line, in order. */
export function heredocsFromLine(line: string): Omit<Heredoc, 'content'>[] {
  let words: string[];
  try {
    words = new ShellLex({ rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).processWords(line, []);
  } catch {
    words = []; // BuildKit ignores lexing errors here: no heredocs then
  }
  const docs: Omit<Heredoc, 'content'>[] = [];
  for (const w of words) {
    let h;
    try {
      h = parseHeredoc(w);
    } catch (e) {
      if (e instanceof SkiffError || e instanceof LineError) throw new LineError(e.message);
      throw e;
    }
    if (h) docs.push(h);
  }
  return docs;
}

/** Strip the leading tabs of every line (`<<-EOF` bodies). */
export function chompHeredocContent(src: string): string {
  return src.replace(/^\t+/gm, '');
}

function canContainHeredoc(node: Node): boolean {
  let n = node;
  if (n.value.toLowerCase() === 'onbuild' && n.next && n.next.children.length > 0) n = n.next.children[0]!;
  return HEREDOC_INSTRUCTIONS.has(n.value.toLowerCase()) && !n.attributes['json'];
}

// ---------------------------------------------------------------------------------------------
// Directives

class DirectiveParser {
  private line = 0;
  private done = false;
  private readonly seen = new Set<string>();

  parseLine(text: string): Directive | null {
    this.line++;
    if (this.done) return null;
    if (!text.startsWith('#')) {
      this.done = true;
      return null;
    }
    const m = RE_DIRECTIVE.exec(trimLeftSpace(text.slice(1)));
    if (!m) {
      this.done = true;
      return null;
    }
    const name = m[1]!.toLowerCase();
    if (name !== 'syntax' && name !== 'escape' && name !== 'check') {
      this.done = true;
      return null;
    }
    if (this.seen.has(name)) throw new LineError(`only one ${name} parser directive can be used`);
    this.seen.add(name);
    return { name, value: m[2]!, line: this.line };
  }
}

// ---------------------------------------------------------------------------------------------

function isComment(line: string): boolean {
  return trimLeftSpace(line).startsWith('#');
}

function trimNewline(s: string): string {
  let j = s.length;
  while (j > 0 && (s[j - 1] === '\n' || s[j - 1] === '\r')) j--;
  return s.slice(0, j);
}

/** Lines with their `\n` kept (the last one may lack it). */
function splitLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    const i = text.indexOf('\n', start);
    if (i < 0) {
      out.push(text.slice(start));
      break;
    }
    out.push(text.slice(start, i + 1));
    start = i + 1;
  }
  return out;
}

function instructionWord(line: string): string {
  const t = trimSpace(line);
  const m = RE_WHITESPACE.exec(t);
  return (m ? t.slice(0, m.index) : t).toUpperCase();
}

function fail(file: string, line: number, what: string, msg: string): never {
  throw new SkiffError('EINVAL', what ? `${file}:${line}: ${what}: ${msg}` : `${file}:${line}: ${msg}`);
}

/**
 * Parse a Dockerfile. `file` names it in error messages (`Dockerfile:12: ENV: ...`).
 * Throws SkiffError('EINVAL') for what BuildKit's parser rejects.
 */
export function parseDockerfile(text: string, file: string): ParseResult {
  const st = newState();
  const directives = new DirectiveParser();
  const found: Directive[] = [];
  const lines = splitLines(text);
  const root = newNode();
  root.startLine = -1;
  const warnings: ParseWarning[] = [];
  let comments: string[] = [];
  let idx = 0;
  let currentLine = 0;

  const nextLine = (): string | undefined => {
    if (idx >= lines.length) return undefined;
    const l = lines[idx++]!;
    if (l.length >= MAX_LINE_BYTES / 3 && Buffer.byteLength(trimNewline(l)) >= MAX_LINE_BYTES) {
      fail(file, idx, '', `dockerfile line greater than max allowed size of ${MAX_LINE_BYTES - 1}`);
    }
    return l;
  };

  /** Returns the line without newline (and, for the first line of an instruction, leading blanks);
   * '' for a comment. Also feeds the directive parser. */
  const processLine = (raw: string, stripLeft: boolean): [string, boolean] => {
    let token = trimNewline(raw);
    if (stripLeft) token = trimLeftSpace(token);
    let ok = false;
    let d: Directive | null;
    try {
      d = directives.parseLine(token);
    } catch (e) {
      if (e instanceof LineError) fail(file, currentLine + 1, 'parser directive', e.message);
      throw e;
    }
    if (d) {
      if (d.name === 'escape') {
        if (d.value !== '`' && d.value !== '\\') {
          fail(file, currentLine + 1, 'parser directive', `invalid escape token '${d.value}' does not match \` or \\`);
        }
        st.escape = d.value;
        st.continuation = continuationRegex(d.value);
      }
      found.push(d);
      ok = true;
    }
    return [isComment(token) ? '' : token, ok];
  };

  const trimContinuation = (line: string): [string, boolean] => {
    if (st.continuation.test(line)) return [line.replace(st.continuation, '$1'), false];
    return [line, true];
  };

  for (let raw = nextLine(); raw !== undefined; raw = nextLine()) {
    if (currentLine === 0 && raw.startsWith('\ufeff')) raw = raw.slice(1);
    if (isComment(raw)) {
      // (BuildKit drops the first character, not the '#': indented comments keep their '#')
      const c = trimSpace(raw.slice(1));
      if (c === '') comments = [];
      else comments.push(c);
    }
    const [first, isDirective] = processLine(raw, true);
    if (isDirective) comments.pop();
    currentLine++;

    const startLine = currentLine;
    let [buf, isEnd] = trimContinuation(first);
    if (isEnd && buf.length === 0) continue;

    let hasEmptyContinuation = false;
    while (!isEnd) {
      const rawNext = nextLine();
      if (rawNext === undefined) break;
      const [tok] = processLine(rawNext, false);
      currentLine++;
      if (isComment(rawNext)) continue;
      if (trimLeftSpace(trimNewline(tok)).length === 0) {
        hasEmptyContinuation = true;
        continue;
      }
      let part: string;
      [part, isEnd] = trimContinuation(tok);
      buf += part;
    }
    const line = buf;

    if (hasEmptyContinuation) {
      warnings.push({
        short: `Empty continuation line found in: ${line}`,
        detail: 'Empty continuation lines will become errors in a future release',
        url: 'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/',
        line: currentLine,
      });
    }

    let child: Node;
    try {
      child = newNodeFromLine(line, st, comments);
    } catch (e) {
      if (e instanceof LineError) fail(file, startLine, instructionWord(line), e.message);
      throw e;
    }

    if (canContainHeredoc(child) && line.includes('<<')) {
      let docs: Omit<Heredoc, 'content'>[];
      try {
        docs = heredocsFromLine(line);
      } catch (e) {
        if (e instanceof LineError) fail(file, startLine, instructionWord(line), e.message);
        throw e;
      }
      for (const doc of docs) {
        let terminated = false;
        let content = '';
        for (let body = nextLine(); body !== undefined; body = nextLine()) {
          currentLine++;
          let candidate = trimNewline(body);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          content += body;
        }
        if (!terminated) fail(file, startLine, instructionWord(line), `unterminated heredoc ${doc.name}`);
        child.heredocs.push({ ...doc, content });
      }
    }

    child.startLine = startLine;
    child.endLine = currentLine;
    if (root.startLine < 0) root.startLine = startLine;
    root.endLine = currentLine;
    root.children.push(child);
    comments = [];
  }

  if (root.startLine < 0) fail(file, Math.max(currentLine, 1), '', 'file with no instructions');

  return { ast: root, escapeToken: st.escape, warnings, directives: found };
}

/** The tree as BuildKit's `Node.Dump()` prints it: one `(instruction args...)` per line. */
export function dump(node: Node): string {
  let s = node.value.toLowerCase();
  if (node.flags.length > 0) s += ' ' + goQuoteList(node.flags);
  for (const c of node.children) s += '(' + dump(c) + ')\n';
  for (let n = node.next; n; n = n.next) {
    s += ' ' + (n.children.length > 0 ? dump(n) : goQuote(n.value));
  }
  return trimSpace(s);
}

/** The argument values of an instruction node (ONBUILD: the nested keyword and its arguments). */
export function nodeArgs(node: Node): string[] {
  const out: string[] = [];
  for (let n = node.next; n; n = n.next) {
    if (n.children.length === 0) out.push(n.value);
    else if (n.children.length === 1) out.push(n.children[0]!.value, ...nodeArgs(n.children[0]!));
  }
  return out;
}
