/**
 * Go `text/template` for Docker's `--format`, evaluated over plain JS data.
 *
 * Grammar and evaluation follow Go: text and `{{actions}}` with `{{-`/`-}}` trimming and
 * `{{/* comments *\/}}`; pipelines `a | b`, parenthesised pipelines, variables (`$x := ...`,
 * `$x = ...`, `$`), `if`/`else if`/`else`, `with`/`else with`, `range` (arrays, maps in sorted key
 * order, integers; `$i, $v :=`; `{{else}}`; `break`/`continue`); Go's builtins (`and or not len
 * index slice print printf println html js urlquery call eq ne lt le gt ge`) and Docker's (`json
 * split join title lower upper pad truncate`). Values print like Go's fmt (`map[a:b]`, `[a b]`,
 * `{v1 v2}` for struct-like records, `<no value>` for missing).
 *
 * JS objects play both Go roles: an object whose keys all start with an upper-case letter is a
 * struct (a missing field is an error, as Docker reports it), any other object is a map (a missing
 * key is `<no value>`). A function-valued field is a method: `{{.Label "k"}}` calls it.
 */
import { SkiffError } from '../../errors.js';
import { formatFloat, formatFloatG } from '../../lib/units.js';

export type TemplateFunc = (...args: unknown[]) => unknown;

export interface RenderOptions {
  /** Replace functions by name for this rendering (Docker renders table headers this way). */
  funcs?: Readonly<Record<string, TemplateFunc>>;
  /** On an execution error return what was rendered so far instead of throwing. */
  partial?: boolean;
}

export interface Template {
  render(data: unknown, opts?: RenderOptions): string;
  /** Every field name the template refers to (`{{.A.B}}` gives A and B), in first-use order. */
  readonly fields: readonly string[];
}

// ───────────────────────────── lexer ─────────────────────────────

type ItemType =
  | 'text' | 'left' | 'right' | 'space' | 'field' | 'var' | 'dot' | 'ident' | 'keyword' | 'bool' | 'nil'
  | 'number' | 'char' | 'string' | 'raw' | 'pipe' | 'declare' | 'assign' | 'lparen' | 'rparen' | 'other'
  | 'error' | 'eof';
interface Item {
  type: ItemType;
  val: string;
  pos: number;
}

const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);
const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlnum = (c: string | undefined): boolean => c !== undefined && /^[\p{L}\p{Nd}_]$/u.test(c);
const goRune = (c: string): string => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;

function lex(src: string): Item[] {
  const items: Item[] = [];
  const emit = (type: ItemType, val: string, pos: number): void => void items.push({ type, val, pos });
  const rightTrimAt = (p: number): boolean => isSpace(src[p]) && src[p + 1] === '-' && src.startsWith('}}', p + 2);
  const atTerminator = (p: number): boolean =>
    p >= src.length || isSpace(src[p]) || '.,|:()'.includes(src[p]!) || src.startsWith('}}', p);
  const fail = (msg: string, pos: number): Item[] => {
    emit('error', msg, pos);
    return items;
  };
  const skipSpace = (p: number): number => {
    while (isSpace(src[p])) p++;
    return p;
  };
  let pos = 0;
  for (;;) {
    const open = src.indexOf('{{', pos);
    if (open < 0) {
      if (pos < src.length) emit('text', src.slice(pos), pos);
      emit('eof', '', src.length);
      return items;
    }
    const trimLeft = src[open + 2] === '-' && isSpace(src[open + 3]);
    const text = src.slice(pos, open);
    const kept = trimLeft ? text.replace(/[ \t\r\n]+$/, '') : text;
    if (kept) emit('text', kept, pos);
    let p = open + 2 + (trimLeft ? 2 : 0);
    if (src.startsWith('/*', p)) {
      const close = src.indexOf('*/', p + 2);
      if (close < 0) return fail('unclosed comment', open);
      p = close + 2;
      const trim = rightTrimAt(p);
      if (trim) p += 2;
      if (!src.startsWith('}}', p)) return fail('comment ends before closing delimiter', open);
      pos = trim ? skipSpace(p + 2) : p + 2;
      continue;
    }
    emit('left', '{{', open);
    let depth = 0;
    for (;;) {
      if (src.startsWith('}}', p) || rightTrimAt(p)) {
        if (depth > 0) return fail('unclosed left paren', p);
        const trim = !src.startsWith('}}', p);
        if (trim) p += 2;
        emit('right', '}}', p);
        p = trim ? skipSpace(p + 2) : p + 2;
        break;
      }
      if (p >= src.length) return fail('unclosed action', open);
      const c = src[p]!;
      const start = p;
      if (isSpace(c)) {
        p = skipSpace(p);
        if (rightTrimAt(p - 1)) p--; // the space belongs to a following " -}}"
        if (p > start) emit('space', src.slice(start, p), start);
        continue;
      }
      if (c === '=') {
        emit('assign', '=', p++);
      } else if (c === ':') {
        if (src[p + 1] !== '=') return fail('expected :=', p);
        emit('declare', ':=', p);
        p += 2;
      } else if (c === '|') {
        emit('pipe', '|', p++);
      } else if (c === '"' || c === "'") {
        for (p++; ; p++) {
          const ch = src[p];
          if (ch === '\\' && src[p + 1] !== undefined && src[p + 1] !== '\n') p++;
          else if (ch === undefined || ch === '\n' || ch === '\\') {
            return fail(c === '"' ? 'unterminated quoted string' : 'unterminated character constant', start);
          } else if (ch === c) break;
        }
        p++;
        emit(c === '"' ? 'string' : 'char', src.slice(start, p), start);
      } else if (c === '`') {
        const close = src.indexOf('`', p + 1);
        if (close < 0) return fail('unterminated raw quoted string', start);
        p = close + 1;
        emit('raw', src.slice(start, p), start);
      } else if (c === '$' || (c === '.' && !isDigit(src[p + 1]))) {
        p++;
        while (isAlnum(src[p])) p++;
        if (!atTerminator(p)) return fail(`bad character ${goRune(src[p]!)}`, p);
        emit(c === '$' ? 'var' : p === start + 1 ? 'dot' : 'field', src.slice(start, p), start);
      } else if (c === '+' || c === '-' || c === '.' || isDigit(c)) {
        p = scanNumber(src, p);
        if (isAlnum(src[p])) return fail(`bad number syntax: ${JSON.stringify(src.slice(start, p + 1))}`, start);
        emit('number', src.slice(start, p), start);
      } else if (isAlnum(c)) {
        while (isAlnum(src[p])) p++;
        if (!atTerminator(p)) return fail(`bad character ${goRune(src[p]!)}`, p);
        const word = src.slice(start, p);
        emit(KEYWORDS.has(word) ? 'keyword' : word === 'true' || word === 'false' ? 'bool' : word === 'nil' ? 'nil' : 'ident', word, start);
      } else if (c === '(') {
        depth++;
        emit('lparen', c, p++);
      } else if (c === ')') {
        if (--depth < 0) return fail(`unexpected right paren ${goRune(c)}`, p);
        emit('rparen', c, p++);
      } else if (c >= ' ' && c <= '~') {
        emit('other', c, p++);
      } else {
        return fail(`unrecognized character in action: ${goRune(String.fromCodePoint(src.codePointAt(p)!))}`, p);
      }
    }
    pos = p;
  }
}

/** Go's scanNumber: sign, 0x/0o/0b prefixes, `_` separators, fraction, exponent, imaginary `i`. */
function scanNumber(src: string, p: number): number {
  const run = (set: string): void => {
    while (p < src.length && set.includes(src[p]!)) p++;
  };
  if (src[p] === '+' || src[p] === '-') p++;
  let digits = '0123456789_';
  if (src[p] === '0' && /^[xXoObB]$/.test(src[p + 1] ?? '')) {
    const b = src[p + 1]!.toLowerCase();
    digits = b === 'x' ? '0123456789abcdefABCDEF_' : b === 'o' ? '01234567_' : '01_';
    p += 2;
  }
  run(digits);
  if (src[p] === '.') {
    p++;
    run(digits);
  }
  if (digits.length === 11 && (src[p] === 'e' || src[p] === 'E')) {
    p++;
    if (src[p] === '+' || src[p] === '-') p++;
    run('0123456789_');
  }
  if (src[p] === 'i') p++;
  return p;
}

// ───────────────────────────── parser ─────────────────────────────

type Arg =
  | { k: 'field'; pos: number; ident: string[] }
  | { k: 'var'; pos: number; name: string; ident: string[] }
  | { k: 'chain'; pos: number; node: Arg; ident: string[] }
  | { k: 'ident'; pos: number; name: string }
  | { k: 'pipe'; pos: number; pipe: Pipe }
  | { k: 'dot'; pos: number }
  | { k: 'nil'; pos: number }
  | { k: 'bool'; pos: number; v: boolean }
  | { k: 'num'; pos: number; v: number; text: string }
  | { k: 'str'; pos: number; v: string; text: string };
interface Cmd {
  pos: number;
  args: Arg[];
}
interface Pipe {
  pos: number;
  decl: string[];
  assign: boolean;
  cmds: Cmd[];
}
interface Control {
  k: 'if' | 'with' | 'range';
  pos: number;
  pipe: Pipe;
  list: Node[];
  else: Node[] | null;
}
type Node = { k: 'text'; text: string } | { k: 'action'; pos: number; pipe: Pipe } | Control | { k: 'break' | 'continue'; pos: number };
type Stop = { k: 'end' } | { k: 'else'; chain: string | null };

const argString = (a: Arg): string => {
  switch (a.k) {
    case 'field':
      return `.${a.ident.join('.')}`;
    case 'var':
      return [a.name, ...a.ident].join('.');
    case 'chain':
      return `${a.node.k === 'pipe' ? `(${pipeString(a.node.pipe)})` : argString(a.node)}.${a.ident.join('.')}`;
    case 'ident':
      return a.name;
    case 'pipe':
      return pipeString(a.pipe);
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return String(a.v);
    case 'num':
    case 'str':
      return a.text;
  }
};
const cmdString = (c: Cmd): string => c.args.map((a) => (a.k === 'pipe' ? `(${argString(a)})` : argString(a))).join(' ');
const pipeString = (p: Pipe): string =>
  (p.decl.length ? `${p.decl.join(', ')} ${p.assign ? '=' : ':='} ` : '') + p.cmds.map(cmdString).join(' | ');

const lineOf = (src: string, pos: number): number => src.slice(0, pos).split('\n').length;

function unquote(text: string): string | null {
  if (text.startsWith('`')) return text.slice(1, -1).replace(/\r/g, '');
  const q = text[0]!;
  let out = '';
  const body = text.slice(1, -1);
  const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      if (c === q) return null;
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) return null;
    if (e in simple) out += simple[e];
    else if (e === q) out += q;
    else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) return null;
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) return null;
      out += String.fromCodePoint(cp);
      i += n;
    } else if (/[0-7]/.test(e)) {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) return null;
      out += String.fromCharCode(parseInt(oct, 8));
      i += 2;
    } else return null;
  }
  return out;
}

function parseNumber(text: string): number | null {
  const s = text.replace(/_/g, '');
  const sign = s.startsWith('-') ? -1 : 1;
  const body = s.replace(/^[+-]/, '');
  if (/^0[xX][0-9a-fA-F]+$/.test(body)) return sign * parseInt(body.slice(2), 16);
  if (/^0[oO]?[0-7]+$/.test(body)) return sign * parseInt(body.replace(/^0[oO]?/, ''), 8);
  if (/^0[bB][01]+$/.test(body)) return sign * parseInt(body.slice(2), 2);
  if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(body)) return sign * Number(body);
  return null;
}

class Parser {
  private i = 0;
  private last = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  readonly fields = new Set<string>();

  constructor(
    private readonly items: Item[],
    private readonly src: string,
    private readonly known: ReadonlySet<string>,
  ) {}

  parse(): Node[] {
    const list: Node[] = [];
    while (this.peek().type !== 'eof') {
      const n = this.textOrAction();
      if ('chain' in n || n.k === 'end') this.fail(`unexpected {{${n.k}}}`);
      else list.push(n as Node);
    }
    return list;
  }

  private fail(msg: string): never {
    throw new SkiffError('EINVAL', `invalid --format template: template: :${lineOf(this.src, this.last)}: ${msg}`);
  }

  private next(): Item {
    const t = this.items[Math.min(this.i, this.items.length - 1)]!;
    this.i++;
    this.last = t.pos;
    if (t.type === 'error') this.fail(t.val);
    return t;
  }
  private peek(): Item {
    return this.items[Math.min(this.i, this.items.length - 1)]!;
  }
  private nextNonSpace(): Item {
    let t: Item;
    do t = this.next();
    while (t.type === 'space');
    return t;
  }
  private peekNonSpace(): Item {
    const t = this.nextNonSpace();
    this.i--;
    return t;
  }

  private describe(t: Item): string {
    if (t.type === 'eof') return 'EOF';
    if (t.type === 'keyword' || t.type === 'dot' || t.type === 'nil') return `<${t.val}>`;
    return t.val.length > 10 ? `${JSON.stringify(t.val.slice(0, 10))}...` : JSON.stringify(t.val);
  }
  private unexpected(t: Item, context: string): never {
    this.fail(`unexpected ${this.describe(t)} in ${context}`);
  }
  private expect(type: ItemType, context: string): Item {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }

  private textOrAction(): Node | Stop {
    const t = this.nextNonSpace();
    if (t.type === 'text') return { k: 'text', text: t.val };
    if (t.type === 'left') return this.action();
    if (t.type === 'eof') this.fail('unexpected EOF');
    this.unexpected(t, 'input');
  }

  private itemList(): { list: Node[]; stop: Stop } {
    const list: Node[] = [];
    for (;;) {
      if (this.peekNonSpace().type === 'eof') this.fail('unexpected EOF');
      const n = this.textOrAction();
      if ('chain' in n || n.k === 'end') return { list, stop: n as Stop };
      list.push(n as Node);
    }
  }

  private action(): Node | Stop {
    const t = this.nextNonSpace();
    if (t.type === 'keyword') {
      switch (t.val) {
        case 'if':
        case 'with':
        case 'range':
          return this.control(t.val as Control['k'], t.pos);
        case 'else': {
          const p = this.peekNonSpace();
          if (p.type === 'keyword' && (p.val === 'if' || p.val === 'with')) return { k: 'else', chain: p.val };
          this.expect('right', 'else');
          return { k: 'else', chain: null };
        }
        case 'end':
          this.expect('right', 'end');
          return { k: 'end' };
        case 'break':
        case 'continue':
          if (this.rangeDepth === 0) this.fail(`{{${t.val}}} outside {{range}}`);
          this.expect('right', t.val);
          return { k: t.val as 'break' | 'continue', pos: t.pos };
        default:
          this.fail(`{{${t.val}}} is not supported in --format templates`);
      }
    }
    this.i--;
    return { k: 'action', pos: t.pos, pipe: this.pipeline('command', 'right') };
  }

  private control(context: Control['k'], pos: number): Control {
    const mark = this.vars.length;
    const pipe = this.pipeline(context, 'right');
    if (context === 'range') this.rangeDepth++;
    const body = this.itemList();
    if (context === 'range') this.rangeDepth--;
    let elseList: Node[] | null = null;
    if ('chain' in body.stop) {
      if (body.stop.chain !== null) {
        // {{else if x}} is {{else}}{{if x}}...{{end}} sharing the outer {{end}}
        if (body.stop.chain !== context) this.unexpected(this.nextNonSpace(), 'input');
        const kw = this.nextNonSpace();
        elseList = [this.control(context, kw.pos)];
      } else {
        const rest = this.itemList();
        if (rest.stop.k !== 'end') this.fail('expected end; found {{else}}');
        elseList = rest.list;
      }
    }
    this.vars.length = mark;
    return { k: context, pos, pipe, list: body.list, else: elseList };
  }

  private pipeline(context: string, end: 'right' | 'rparen'): Pipe {
    const pipe: Pipe = { pos: this.peekNonSpace().pos, decl: [], assign: false, cmds: [] };
    for (;;) {
      const save = this.i;
      const v = this.peekNonSpace();
      if (v.type !== 'var') break;
      this.nextNonSpace();
      const n = this.peekNonSpace();
      if (n.type === 'declare' || n.type === 'assign') {
        this.nextNonSpace();
        pipe.assign = n.type === 'assign';
        if (pipe.assign && !this.vars.includes(v.val)) this.fail(`undefined variable "${v.val}"`);
        pipe.decl.push(v.val);
        this.vars.push(v.val);
        break;
      }
      if (n.type === 'other' && n.val === ',') {
        this.nextNonSpace();
        pipe.decl.push(v.val);
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const t = this.peekNonSpace().type;
          if (t === 'var' || t === 'right' || t === 'rparen') continue;
          this.fail('range can only initialize variables');
        }
        this.fail(`too many declarations in ${context}`);
      }
      this.i = save;
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.type === end) {
        if (pipe.cmds.length === 0) this.fail(`missing value for ${context}`);
        pipe.cmds.forEach((c, i) => {
          if (i > 0 && ['bool', 'dot', 'nil', 'num', 'str'].includes(c.args[0]!.k)) {
            this.fail(`non executable command in pipeline stage ${i + 1}`);
          }
        });
        return pipe;
      }
      if (['bool', 'char', 'dot', 'field', 'ident', 'number', 'nil', 'raw', 'string', 'var', 'lparen'].includes(t.type)) {
        this.i--;
        pipe.cmds.push(this.command());
      } else this.unexpected(t, context);
    }
  }

  private command(): Cmd {
    const cmd: Cmd = { pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const op = this.operand();
      if (op) cmd.args.push(op);
      const t = this.next();
      if (t.type === 'space') continue;
      if (t.type === 'right' || t.type === 'rparen') this.i--;
      else if (t.type !== 'pipe') this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.fail('empty command');
    return cmd;
  }

  private operand(): Arg | null {
    const node = this.term();
    if (!node || this.peek().type !== 'field') return node;
    const pos = this.peek().pos; // Go reports a chain at its first chained field
    const ident: string[] = [];
    while (this.peek().type === 'field') ident.push(this.field(this.next()));
    switch (node.k) {
      case 'field':
      case 'var':
        return { ...node, pos, ident: [...node.ident, ...ident] };
      case 'bool':
      case 'str':
      case 'num':
      case 'nil':
      case 'dot':
        this.fail(`unexpected . after term ${JSON.stringify(argString(node))}`);
      default:
        return { k: 'chain', pos, node, ident };
    }
  }

  private field(t: Item): string {
    const name = t.val.slice(1);
    this.fields.add(name);
    return name;
  }

  private term(): Arg | null {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'ident':
        if (!this.known.has(t.val)) this.fail(`function "${t.val}" not defined`);
        return { k: 'ident', pos: t.pos, name: t.val };
      case 'dot':
        return { k: 'dot', pos: t.pos };
      case 'nil':
        return { k: 'nil', pos: t.pos };
      case 'var':
        if (!this.vars.includes(t.val)) this.fail(`undefined variable "${t.val}"`);
        return { k: 'var', pos: t.pos, name: t.val, ident: [] };
      case 'field':
        return { k: 'field', pos: t.pos, ident: [this.field(t)] };
      case 'bool':
        return { k: 'bool', pos: t.pos, v: t.val === 'true' };
      case 'char': {
        const s = unquote(t.val);
        if (s === null || [...s].length !== 1) this.fail(`malformed character constant: ${t.val}`);
        return { k: 'num', pos: t.pos, v: s.codePointAt(0)!, text: t.val };
      }
      case 'number': {
        const v = parseNumber(t.val);
        if (v === null) this.fail(`illegal number syntax: ${JSON.stringify(t.val)}`);
        return { k: 'num', pos: t.pos, v, text: t.val };
      }
      case 'lparen':
        return { k: 'pipe', pos: t.pos, pipe: this.pipeline('parenthesized pipeline', 'rparen') };
      case 'string':
      case 'raw': {
        const s = unquote(t.val);
        if (s === null) this.fail('invalid syntax');
        return { k: 'str', pos: t.pos, v: s, text: t.val };
      }
      default:
        this.i--;
        return null;
    }
  }
}

// ───────────────────────────── values ─────────────────────────────

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPlain = (v: unknown): v is Obj => {
  if (!isObj(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};
/** A record whose keys all look like exported Go fields is a struct; anything else is a map. */
const isStruct = (o: Obj): boolean => {
  const keys = Object.keys(o);
  return keys.length > 0 && keys.every((k) => /^[A-Z]/.test(k));
};
/** A number Go would hold in an int64; larger integral values can only have been floats. */
const isInt = (v: unknown): v is number | bigint => typeof v === 'bigint' || (Number.isInteger(v) && Math.abs(v as number) < 2 ** 63);

function goType(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return isInt(v) ? 'int' : 'float64';
    case 'bigint':
      return 'int64';
    case 'function':
      return 'func';
  }
  if (Array.isArray(v)) return v.length && v.every((e) => typeof e === 'string') ? '[]string' : '[]interface {}';
  if (!isPlain(v)) return (v as object).constructor?.name ?? 'object';
  if (isStruct(v)) return 'struct';
  return Object.values(v).every((e) => typeof e === 'string') ? 'map[string]string' : 'map[string]interface {}';
}

/** Go's truth: false, 0, nil, empty string/slice/map are false; structs are true. */
function truth(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v) || typeof v === 'string') return v.length > 0;
  if (isObj(v)) return !isPlain(v) || isStruct(v) || Object.keys(v).length > 0;
  if (typeof v === 'bigint') return v !== 0n;
  return Boolean(v);
}

function goNumber(n: number | bigint): string {
  if (typeof n === 'bigint') return n.toString();
  return isInt(n) ? BigInt(n).toString() : formatFloatG(n);
}

/** fmt's `%v` (and `%+v` with `plus`): what `{{.X}}` prints for a non-string value. */
function fmtValue(v: unknown, plus = false): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return goNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'function') return '<func>';
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return `[${v.map((e) => fmtValue(e, plus)).join(' ')}]`;
  const o = v as Obj;
  if (isStruct(o) || !isPlain(o)) {
    return `{${Object.keys(o).map((k) => (plus ? `${k}:` : '') + fmtValue(o[k], plus)).join(' ')}}`;
  }
  const elem = (e: unknown): string => (isPlain(e) && Object.keys(e).length === 0 ? '{}' : fmtValue(e, plus));
  return `map[${Object.keys(o).sort().map((k) => `${k}:${elem(o[k])}`).join(' ')}]`;
}

/** Docker's `json`: encoding/json without HTML escaping; map keys sorted, struct fields in order. */
function goJSON(v: unknown): string {
  const norm = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(norm);
    if (!isPlain(x)) return x;
    const keys = isStruct(x) ? Object.keys(x) : Object.keys(x).sort();
    return Object.fromEntries(keys.map((k) => [k, norm(x[k])]));
  };
  return (JSON.stringify(norm(v) ?? null) ?? 'null').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const isPrintable = (c: string): boolean => c === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(c);

/** strconv.Quote (and QuoteToASCII with `ascii`). */
function goQuote(s: string, q = '"', ascii = false): string {
  const esc: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\' };
  let out = q;
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    if (c === q) out += `\\${q}`;
    else if (esc[c]) out += esc[c];
    else if (isPrintable(c) && !(ascii && cp > 0x7e)) out += c;
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return out + q;
}

// ───────────────────────────── fmt.Sprintf ─────────────────────────────

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
}

function pad(s: string, f: Spec): string {
  const n = (f.width ?? 0) - [...s].length;
  if (n <= 0) return s;
  if (f.minus) return s + ' '.repeat(n);
  return (f.zero ? '0' : ' ').repeat(n) + s;
}

/** Sign, then zero padding (when asked and allowed), then the digits. */
function padNumber(sign: string, body: string, f: Spec, zeroOk: boolean): string {
  if (f.zero && zeroOk && !f.minus && f.width !== undefined) {
    return sign + body.padStart(f.width - sign.length, '0');
  }
  return pad(sign + body, { ...f, zero: false });
}

const badVerb = (verb: string, v: unknown): string =>
  v === undefined || v === null ? `%!${verb}(<nil>)` : `%!${verb}(${goType(v)}=${fmtValue(v)})`;

function fmtInteger(n: number | bigint, verb: string, f: Spec): string {
  const big = BigInt(n);
  const neg = big < 0n;
  const base = verb === 'b' ? 2 : verb === 'o' || verb === 'O' ? 8 : verb === 'x' || verb === 'X' ? 16 : 10;
  let digits = (neg ? -big : big).toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  if (f.prec !== undefined) digits = f.prec === 0 && big === 0n ? '' : digits.padStart(f.prec, '0');
  let prefix = verb === 'O' ? '0o' : '';
  if (f.sharp) {
    if (base === 8 && verb === 'o' && !digits.startsWith('0')) prefix = '0';
    if (base === 16) prefix = verb === 'X' ? '0X' : '0x';
    if (base === 2) prefix = '0b';
  }
  const sign = neg ? '-' : f.plus ? '+' : f.space ? ' ' : '';
  return padNumber(sign + prefix, digits, f, f.prec === undefined);
}

/** The `#` flag on floats: always a decimal point; for %g, trailing zeros up to the precision. */
function sharpFloat(num: string, verb: string, prec: number): string {
  let digits = verb === 'g' || verb === 'G' ? (prec < 0 ? 6 : prec) : 0;
  const e = num.search(/[eE]/);
  let mant = e < 0 ? num : num.slice(0, e);
  const tail = e < 0 ? '' : num.slice(e);
  let seen = false;
  for (const c of mant) {
    if (c === '.') continue;
    if (c !== '0') seen = true;
    if (seen) digits--;
  }
  if (!mant.includes('.')) {
    if (mant === '0') digits--;
    mant += '.';
  }
  return mant + '0'.repeat(Math.max(0, digits)) + tail;
}

/** Floats for %e %E %f %F %g %G, and %v (which is %g). */
function fmtFloat(x: number, verb: string, f: Spec): string {
  const lower = verb === 'v' ? 'g' : verb.toLowerCase();
  let s: string;
  if (!Number.isFinite(x)) {
    s = Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf';
    if (s === 'NaN' && (f.plus || f.space)) s = (f.plus ? '+' : ' ') + s;
    else if (s === '+Inf' && !f.plus) s = f.space ? ' Inf' : '+Inf';
    return pad(s, { ...f, zero: false });
  }
  if (lower === 'e' || lower === 'f') s = formatFloat(x, lower, f.prec ?? 6);
  else s = formatFloatG(x, f.prec ?? -1);
  if (verb === 'E' || verb === 'G') s = s.toUpperCase();
  const neg = s.startsWith('-');
  let body = neg ? s.slice(1) : s;
  if (f.sharp) body = sharpFloat(body, verb, f.prec ?? -1);
  return padNumber(neg ? '-' : f.plus ? '+' : f.space ? ' ' : '', body, f, true);
}

function fmtString(s: string, verb: string, f: Spec): string {
  const t = f.prec === undefined ? s : [...s].slice(0, f.prec).join('');
  switch (verb) {
    case 'v':
      return pad(f.sharp ? goQuote(t) : t, f);
    case 's':
      return pad(t, f);
    case 'q':
      if (f.sharp && !/[`\x00-\x08\x0a-\x1f\x7f]/.test(t)) return pad(`\`${t}\``, f);
      return pad(goQuote(t, '"', f.plus), f);
    case 'x':
    case 'X': {
      const hex = [...Buffer.from(s).subarray(0, f.prec ?? Infinity)].map((b) => b.toString(16).padStart(2, '0'));
      const out = hex.map((h) => (f.sharp ? `0x${h}` : h)).join(f.space ? ' ' : '');
      return pad(verb === 'X' ? out.toUpperCase() : out, f);
    }
    default:
      return badVerb(verb, s);
  }
}

function fmtArg(v: unknown, verb: string, spec: Spec): string {
  // for %v, Go reads '+' as %+v (field names) and '#' as %#v (Go syntax), not as number flags
  const plusV = verb === 'v' && spec.plus;
  const sharpV = verb === 'v' && spec.sharp;
  const f = verb === 'v' ? { ...spec, plus: false, sharp: false } : spec;
  if (verb === 'T') return pad(goType(v), f);
  if (v === undefined || v === null) return verb === 'v' ? pad('<nil>', f) : badVerb(verb, v);
  if (typeof v === 'string') return fmtString(v, verb, sharpV ? { ...f, sharp: true } : f);
  if (typeof v === 'boolean') return verb === 't' || verb === 'v' ? pad(String(v), f) : badVerb(verb, v);
  if (typeof v === 'number' || typeof v === 'bigint') {
    const int = isInt(v);
    switch (verb) {
      case 'v':
        return int ? fmtInteger(v, 'd', f) : fmtFloat(Number(v), 'v', f);
      case 'd':
      case 'b':
      case 'o':
      case 'O':
      case 'x':
      case 'X':
        return int ? fmtInteger(v, verb, f) : badVerb(verb, v);
      case 'c':
        return int ? pad(String.fromCodePoint(Number(v)), f) : badVerb(verb, v);
      case 'q':
        return int ? pad(goQuote(String.fromCodePoint(Number(v)), "'", f.plus), f) : badVerb(verb, v);
      case 'U': {
        if (!int) return badVerb(verb, v);
        const u = BigInt.asUintN(64, BigInt(v));
        const hex = `U+${u.toString(16).toUpperCase().padStart(f.prec ?? 4, '0')}`;
        const printable = u <= 0x10ffffn && isPrintable(String.fromCodePoint(Number(u)));
        return pad(f.sharp && printable ? `${hex} '${String.fromCodePoint(Number(u))}'` : hex, { ...f, zero: false });
      }
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
        return fmtFloat(Number(v), verb, f);
      default:
        return badVerb(verb, v);
    }
  }
  if (typeof v === 'function') return badVerb(verb, v);
  if (Array.isArray(v)) return `[${v.map((e) => fmtArg(e, verb, spec)).join(' ')}]`;
  const o = v as Obj;
  if (verb === 'v' && !f.width) return fmtValue(o, plusV);
  if (isStruct(o) || !isPlain(o)) {
    return `{${Object.keys(o).map((k) => (plusV ? `${k}:` : '') + fmtArg(o[k], verb, spec)).join(' ')}}`;
  }
  return `map[${Object.keys(o).sort().map((k) => `${fmtArg(k, verb, spec)}:${fmtArg(o[k], verb, spec)}`).join(' ')}]`;
}

/** Go's fmt.Sprintf, including its in-band errors (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA ...)`). */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let argNum = 0;
  let reordered = false;
  let i = 0;
  const argIndex = (): void => {
    if (format[i] !== '[') return;
    const close = format.indexOf(']', i);
    const k = close < 0 ? NaN : Number(format.slice(i + 1, close));
    if (Number.isInteger(k) && k >= 1 && k <= args.length) {
      argNum = k - 1;
      reordered = true;
      i = close + 1;
    } else {
      argNum = args.length; // Go reports %!v(BADINDEX); treat as missing
      i = close < 0 ? format.length : close + 1;
    }
  };
  const num = (): number | undefined => {
    const m = /^\d+/.exec(format.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    return Number(m[0]);
  };
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const f: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === '#') f.sharp = true;
      else if (c === '0') f.zero = !f.minus;
      else if (c === '+') f.plus = true;
      else if (c === '-') [f.minus, f.zero] = [true, false];
      else if (c === ' ') f.space = true;
      else break;
    }
    argIndex();
    if (format[i] === '*') {
      i++;
      const w = args[argNum++];
      if (isInt(w)) {
        f.width = Math.abs(Number(w));
        if (Number(w) < 0) [f.minus, f.zero] = [true, false];
      } else out += '%!(BADWIDTH)';
    } else f.width = num();
    if (format[i] === '.') {
      i++;
      argIndex();
      if (format[i] === '*') {
        i++;
        const p = args[argNum++];
        if (isInt(p) && Number(p) >= 0) f.prec = Number(p);
        else out += '%!(BADPREC)';
      } else f.prec = num() ?? 0;
    }
    argIndex();
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') out += '%';
    else if (argNum >= args.length) out += `%!${verb}(MISSING)`;
    else out += fmtArg(args[argNum++], verb, f);
  }
  if (!reordered && argNum < args.length) {
    out += `%!(EXTRA ${args.slice(argNum).map((a) => (a === undefined || a === null ? '<nil>' : `${goType(a)}=${fmtValue(a)}`)).join(', ')})`;
  }
  return out;
}

/** fmt.Sprint: operands separated by a space when neither side is a string. */
function sprint(args: readonly unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += fmtValue(a);
  });
  return out;
}

// ───────────────────────────── functions ─────────────────────────────

type Param = 'any' | 'string' | 'int' | 'strings';
interface FuncDef {
  params: Param[];
  variadic?: boolean;
  fn: (...a: never[]) => unknown;
}

const runes = (s: string): string[] => [...s];

/** strings.Title: upper-case each letter that follows a separator (space or ASCII punctuation). */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const c of s) {
    const sep = /^[\x00-\x7f]$/.test(prev) ? !/^[A-Za-z0-9_]$/.test(prev) : /^\s$/u.test(prev);
    out += sep ? c.toUpperCase() : c;
    prev = c;
  }
  return out;
}

function kindOf(v: unknown): string {
  if (v === undefined || v === null) return 'nil';
  if (typeof v === 'bigint') return 'number';
  return typeof v === 'object' || typeof v === 'function' ? 'complex' : typeof v;
}

function eq(a: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new Error('missing argument for comparison');
  const k1 = kindOf(a);
  for (const b of [a, ...rest]) {
    if (kindOf(b) === 'complex') throw new Error(`uncomparable type ${goType(b)}: ${fmtValue(b)}`);
  }
  for (const b of rest) {
    const k2 = kindOf(b);
    if (k1 !== k2) {
      if (k1 !== 'nil' && k2 !== 'nil') throw new Error('incompatible types for comparison');
    } else if (k1 === 'nil' || a === b || (k1 === 'number' && Number(a) === Number(b))) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = kindOf(a);
  const k2 = kindOf(b);
  if (k1 !== 'number' && k1 !== 'string') throw new Error('invalid type for comparison');
  if (k1 !== k2) throw new Error('incompatible types for comparison');
  return (a as number | string) < (b as number | string);
}

function index(item: unknown, ...keys: unknown[]): unknown {
  let v = item;
  for (const k of keys) {
    if (v === undefined || v === null) throw new Error('index of untyped nil');
    if (Array.isArray(v) || typeof v === 'string') {
      if (!isInt(k)) throw new Error(`cannot index slice/array with type ${goType(k)}`);
      const n = Number(k);
      const bytes = typeof v === 'string' ? Buffer.from(v) : null;
      const len = bytes ? bytes.length : (v as unknown[]).length;
      if (n < 0 || n >= len) throw new Error(`index out of range: ${n}`);
      v = bytes ? bytes[n] : (v as unknown[])[n];
    } else if (isObj(v)) {
      if (typeof k !== 'string') throw new Error(`value has type ${goType(k)}; should be string`);
      if (Object.prototype.hasOwnProperty.call(v, k)) v = v[k];
      else {
        // the zero value of the map's element type: "" for string maps such as Labels
        const vals = Object.values(v);
        v = vals.every((e) => typeof e === 'string') ? '' : undefined;
      }
    } else throw new Error(`can't index item of type ${goType(v)}`);
  }
  return v;
}

function slice(item: unknown, ...idx: unknown[]): unknown {
  if (item === undefined || item === null) throw new Error('slice of untyped nil');
  if (idx.length > 3) throw new Error(`too many slice indexes: ${idx.length}`);
  const isStr = typeof item === 'string';
  if (!isStr && !Array.isArray(item)) throw new Error(`can't slice item of type ${goType(item)}`);
  if (isStr && idx.length === 3) throw new Error('cannot 3-index slice a string');
  const bytes = isStr ? Buffer.from(item) : null;
  const len = bytes ? bytes.length : (item as unknown[]).length;
  const n = idx.map((x) => {
    if (!isInt(x)) throw new Error(`cannot index slice/array with type ${goType(x)}`);
    const v = Number(x);
    if (v < 0 || v > len) throw new Error(`index out of range: ${v}`);
    return v;
  });
  const [i = 0, j = len] = n;
  if (i > j) throw new Error(`invalid slice index: ${i} > ${j}`);
  if (n.length === 3 && j > n[2]!) throw new Error(`invalid slice index: ${j} > ${n[2]}`);
  return bytes ? bytes.subarray(i, j).toString() : (item as unknown[]).slice(i, j);
}

function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (a === undefined || a === null ? '<no value>' : a)));
}

const HTML_ESC: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&#34;', '\0': '\uFFFD' };
const JS_ESC: Record<string, string> = { '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D' };

const BUILTINS: Record<string, FuncDef> = {
  // Docker's additions (cli/templates)
  json: { params: ['any'], fn: (v: unknown) => goJSON(v) },
  split: { params: ['string', 'string'], fn: (s: string, sep: string) => (sep === '' ? runes(s) : s.split(sep)) },
  join: { params: ['strings', 'string'], fn: (a: string[], sep: string) => a.join(sep) },
  title: { params: ['string'], fn: (s: string) => title(s) },
  lower: { params: ['string'], fn: (s: string) => s.toLowerCase() },
  upper: { params: ['string'], fn: (s: string) => s.toUpperCase() },
  pad: { params: ['string', 'int', 'int'], fn: (s: string, l: number, r: number) => (s === '' ? s : ' '.repeat(Math.max(0, l)) + s + ' '.repeat(Math.max(0, r))) },
  truncate: { params: ['string', 'int'], fn: (s: string, n: number) => (runes(s).length < n ? s : runes(s).slice(0, Math.max(0, n)).join('')) },
  // Go's builtins (and/or are evaluated lazily by the executor)
  and: { params: ['any'], variadic: true, fn: () => undefined },
  or: { params: ['any'], variadic: true, fn: () => undefined },
  not: { params: ['any'], fn: (v: unknown) => !truth(v) },
  len: {
    params: ['any'],
    fn: (v: unknown) => {
      if (v === undefined || v === null) throw new Error('len of nil pointer');
      if (typeof v === 'string') return Buffer.byteLength(v);
      if (Array.isArray(v)) return v.length;
      if (isPlain(v)) return Object.keys(v).length;
      throw new Error(`len of type ${goType(v)}`);
    },
  },
  index: { params: ['any'], variadic: true, fn: index },
  slice: { params: ['any'], variadic: true, fn: slice },
  print: { params: [], variadic: true, fn: (...a: unknown[]) => sprint(a) },
  println: { params: [], variadic: true, fn: (...a: unknown[]) => `${a.map((v) => fmtValue(v)).join(' ')}\n` },
  printf: { params: ['string'], variadic: true, fn: (fmt: string, ...a: unknown[]) => sprintf(fmt, a) },
  html: { params: [], variadic: true, fn: (...a: unknown[]) => evalArgs(a).replace(/[<>&'"\0]/g, (c) => HTML_ESC[c]!) },
  js: {
    params: [],
    variadic: true,
    fn: (...a: unknown[]) =>
      evalArgs(a).replace(/[\\'"<>&=]|[\x00-\x1f]/g, (c) => JS_ESC[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`),
  },
  urlquery: {
    params: [],
    variadic: true,
    fn: (...a: unknown[]) => encodeURIComponent(evalArgs(a)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+'),
  },
  call: {
    params: ['any'],
    variadic: true,
    fn: (f: unknown, ...a: unknown[]) => {
      if (typeof f !== 'function') throw new Error(`non-function of type ${goType(f)}`);
      return (f as TemplateFunc)(...a);
    },
  },
  eq: { params: ['any'], variadic: true, fn: eq },
  ne: { params: ['any', 'any'], fn: (a: unknown, b: unknown) => !eq(a, b) },
  lt: { params: ['any', 'any'], fn: lt },
  le: { params: ['any', 'any'], fn: (a: unknown, b: unknown) => lt(a, b) || eq(a, b) },
  gt: { params: ['any', 'any'], fn: (a: unknown, b: unknown) => !(lt(a, b) || eq(a, b)) },
  ge: { params: ['any', 'any'], fn: (a: unknown, b: unknown) => !lt(a, b) },
};
const KNOWN = new Set(Object.keys(BUILTINS));

function checkParam(p: Param, v: unknown): string | null {
  if (p === 'any') return null;
  const want = p === 'strings' ? '[]string' : p;
  if (v === undefined || v === null) return `invalid value; expected ${want}`;
  const ok = p === 'string' ? typeof v === 'string' : p === 'int' ? isInt(v) : Array.isArray(v) && v.every((e) => typeof e === 'string');
  return ok ? null : `wrong type for value; expected ${want}; got ${goType(v)}`;
}

// ───────────────────────────── executor ─────────────────────────────

const NONE = Symbol('no final value');
type Signal = 'break' | 'continue' | null;

class Exec {
  readonly out: string[] = [];
  private vars: { name: string; value: unknown }[];

  constructor(
    private readonly src: string,
    root: unknown,
    private readonly custom: Readonly<Record<string, TemplateFunc>>,
  ) {
    this.vars = [{ name: '$', value: root }];
  }

  private fail(node: Arg | Cmd | Node, msg: string): never {
    const pos = 'pos' in node ? node.pos : 0;
    const lineStart = this.src.lastIndexOf('\n', pos - 1) + 1;
    const at = 'args' in node ? cmdString(node) : 'k' in node && 'pipe' in node && node.k !== 'pipe' ? pipeString(node.pipe) : argString(node as Arg);
    throw new SkiffError('EINVAL', `template: :${lineOf(this.src, pos)}:${pos - lineStart}: executing "" at <${at}>: ${msg}`);
  }

  walk(dot: unknown, nodes: Node[]): Signal {
    for (const n of nodes) {
      switch (n.k) {
        case 'text':
          this.out.push(n.text);
          break;
        case 'action': {
          const v = this.evalPipe(dot, n.pipe);
          if (n.pipe.decl.length === 0) this.out.push(this.printable(n, v));
          break;
        }
        case 'if':
        case 'with': {
          const mark = this.vars.length;
          const v = this.evalPipe(dot, n.pipe);
          const sig = truth(v) ? this.walk(n.k === 'with' ? v : dot, n.list) : n.else ? this.walk(dot, n.else) : null;
          this.vars.length = mark;
          if (sig) return sig;
          break;
        }
        case 'range': {
          const sig = this.range(dot, n);
          if (sig) return sig;
          break;
        }
        case 'break':
        case 'continue':
          return n.k;
      }
    }
    return null;
  }

  private printable(n: Node, v: unknown): string {
    if (v === undefined || v === null) return '<no value>';
    if (typeof v === 'string') return v;
    if (typeof v === 'function') this.fail(n, `can't print ${'pipe' in n ? pipeString(n.pipe) : ''} of type func`);
    return fmtValue(v);
  }

  private range(dot: unknown, n: Control): Signal {
    const mark = this.vars.length;
    const lastCmd = n.pipe.cmds[n.pipe.cmds.length - 1]!;
    const at = lastCmd.args.length === 1 ? lastCmd.args[0]! : lastCmd;
    const val = this.evalCmds(dot, n.pipe);
    const names = n.pipe.decl;
    let entries: [unknown, unknown][];
    if (val === undefined || val === null) entries = [];
    else if (Array.isArray(val)) entries = val.map((e, i) => [i, e]);
    else if (isObj(val)) entries = Object.keys(val).sort().map((k) => [k, val[k]]);
    else if (isInt(val)) {
      if (names.length > 1) this.fail(at, `can't use ${goNumber(val)} to iterate over more than one variable`);
      entries = Array.from({ length: Math.max(0, Number(val)) }, (_, i) => [i, i]);
    } else this.fail(at, `range can't iterate over ${fmtValue(val)}`);
    if (!n.pipe.assign) for (const name of names) this.vars.push({ name, value: val });
    let sig: Signal = null;
    if (entries.length === 0) {
      if (n.else) sig = this.walk(dot, n.else);
    } else {
      for (const [key, elem] of entries) {
        if (n.pipe.assign) {
          if (names.length > 1) this.setVar(names[0]!, key);
          if (names.length) this.setVar(names[names.length - 1]!, elem);
        } else {
          if (names.length) this.vars[this.vars.length - 1]!.value = elem;
          if (names.length > 1) this.vars[this.vars.length - 2]!.value = key;
        }
        const inner = this.vars.length;
        const s = this.walk(elem, n.list);
        this.vars.length = inner;
        if (s === 'break') break;
      }
    }
    this.vars.length = mark;
    return sig;
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
  }

  private varValue(node: Arg, name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    this.fail(node, `undefined variable: ${name}`);
  }

  private evalCmds(dot: unknown, pipe: Pipe): unknown {
    let v: unknown = NONE;
    for (const cmd of pipe.cmds) v = this.evalCmd(dot, cmd, v);
    return v;
  }

  private evalPipe(dot: unknown, pipe: Pipe): unknown {
    const v = this.evalCmds(dot, pipe);
    for (const name of pipe.decl) {
      if (pipe.assign) this.setVar(name, v);
      else this.vars.push({ name, value: v });
    }
    return v;
  }

  private notAFunction(args: Arg[], final: unknown): void {
    if (args.length > 1 || final !== NONE) this.fail(args[0]!, `can't give argument to non-function ${argString(args[0]!)}`);
  }

  private evalCmd(dot: unknown, cmd: Cmd, final: unknown): unknown {
    const first = cmd.args[0]!;
    const rest = cmd.args.slice(1);
    switch (first.k) {
      case 'field':
        return this.fieldChain(dot, dot, first, first.ident, rest, final);
      case 'chain':
        return this.fieldChain(dot, this.evalArg(dot, first.node), first, first.ident, rest, final);
      case 'ident':
        return this.call(dot, first, cmd, rest, final);
      case 'var':
        if (first.ident.length === 0) {
          this.notAFunction(cmd.args, final);
          return this.varValue(first, first.name);
        }
        return this.fieldChain(dot, this.varValue(first, first.name), first, first.ident, rest, final);
      default:
        this.notAFunction(cmd.args, final);
        if (first.k === 'nil') this.fail(first, 'nil is not a command');
        return this.evalArg(dot, first);
    }
  }

  private evalArg(dot: unknown, a: Arg): unknown {
    switch (a.k) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'bool':
      case 'num':
      case 'str':
        return a.v;
      case 'field':
        return this.fieldChain(dot, dot, a, a.ident, [], NONE);
      case 'var':
        return a.ident.length ? this.fieldChain(dot, this.varValue(a, a.name), a, a.ident, [], NONE) : this.varValue(a, a.name);
      case 'chain':
        return this.fieldChain(dot, this.evalArg(dot, a.node), a, a.ident, [], NONE);
      case 'pipe':
        return this.evalPipe(dot, a.pipe);
      case 'ident':
        return this.call(dot, a, { pos: a.pos, args: [a] }, [], NONE);
    }
  }

  private fieldChain(dot: unknown, recv: unknown, node: Arg, ident: string[], args: Arg[], final: unknown): unknown {
    let v = recv;
    for (let i = 0; i < ident.length - 1; i++) v = this.field(dot, ident[i]!, node, [], NONE, v);
    return this.field(dot, ident[ident.length - 1]!, node, args, final, v);
  }

  private field(dot: unknown, name: string, node: Arg, args: Arg[], final: unknown, recv: unknown): unknown {
    if (recv === undefined) return undefined; // a missing map key: Go yields the invalid value
    if (recv === null) this.fail(node, `nil pointer evaluating interface {}.${name}`);
    const hasArgs = args.length > 0 || final !== NONE;
    if (isObj(recv)) {
      const own = Object.prototype.hasOwnProperty.call(recv, name);
      const found = own || (!isPlain(recv) && name in recv && !(name in Object.prototype));
      if (found) {
        const v = recv[name];
        if (typeof v === 'function') {
          const argv = args.map((a) => this.evalArg(dot, a));
          if (final !== NONE) argv.push(final);
          try {
            return (v as TemplateFunc).apply(recv, argv);
          } catch (e) {
            this.fail(node, `error calling ${name}: ${(e as Error).message}`);
          }
        }
        if (hasArgs) this.fail(node, `${name} has arguments but cannot be invoked as function`);
        return v;
      }
      if (isStruct(recv) || !isPlain(recv)) this.fail(node, `can't evaluate field ${name} in type ${goType(recv)}`);
      if (hasArgs) this.fail(node, `${name} is not a method but has arguments`);
      return undefined;
    }
    this.fail(node, `can't evaluate field ${name} in type ${goType(recv)}`);
  }

  private call(dot: unknown, id: Extract<Arg, { k: 'ident' }>, cmd: Cmd, args: Arg[], final: unknown): unknown {
    const name = id.name;
    const custom = this.custom[name];
    if (custom) {
      const argv = args.map((a) => this.evalArg(dot, a));
      if (final !== NONE) argv.push(final);
      try {
        return custom(...argv);
      } catch (e) {
        this.fail(cmd, `error calling ${name}: ${(e as Error).message}`);
      }
    }
    if (name === 'and' || name === 'or') {
      if (args.length === 0 && final === NONE) this.fail(id, `wrong number of args for ${name}: want at least 1 got 0`);
      let v: unknown;
      for (const a of args) {
        v = this.evalArg(dot, a);
        if (truth(v) === (name === 'or')) return v;
      }
      return final !== NONE ? final : v;
    }
    const def = BUILTINS[name];
    if (!def) this.fail(id, `"${name}" is not a defined function`);
    const argv = args.map((a) => this.evalArg(dot, a));
    if (final !== NONE) argv.push(final);
    const n = def.params.length;
    if (def.variadic ? argv.length < n : argv.length !== n) {
      this.fail(id, `wrong number of args for ${name}: want ${def.variadic ? 'at least ' : ''}${n} got ${argv.length}`);
    }
    def.params.forEach((p, i) => {
      const problem = checkParam(p, argv[i]);
      if (!problem) return;
      const a = args[i];
      if (a && (a.k === 'str' || a.k === 'num' || a.k === 'bool' || a.k === 'nil')) {
        const want = p === 'int' ? 'integer' : p;
        this.fail(a, p === 'strings' ? `can't handle ${argString(a)} for arg of type []string` : `expected ${want}; found ${argString(a)}`);
      }
      this.fail(a ?? cmd, problem);
    });
    if (name === 'call' && typeof argv[0] !== 'function') {
      this.fail(cmd, `error calling call: non-function ${args[0] ? argString(args[0]) : ''} of type ${goType(argv[0])}`);
    }
    try {
      return (def.fn as TemplateFunc)(...argv);
    } catch (e) {
      this.fail(cmd, `error calling ${name}: ${(e as Error).message}`);
    }
  }
}

/** Docker renders a table's header row with these in place of its formatting functions. */
export const HEADER_FUNCS: Readonly<Record<string, TemplateFunc>> = Object.fromEntries(
  ['json', 'split', 'join', 'title', 'lower', 'upper', 'truncate', 'pad'].map((n) => [n, (v: unknown) => v]),
);

/** Parse a Go template; throws `SkiffError('EINVAL', 'invalid --format template: ...')` on syntax errors. */
export function compileTemplate(src: string): Template {
  const parser = new Parser(lex(src), src, KNOWN);
  const nodes = parser.parse();
  const fields = [...parser.fields];
  return {
    fields,
    render(data: unknown, opts: RenderOptions = {}): string {
      const ex = new Exec(src, data, opts.funcs ?? {});
      try {
        ex.walk(data, nodes);
      } catch (e) {
        if (!opts.partial) throw e;
      }
      return ex.out.join('');
    },
  };
}
