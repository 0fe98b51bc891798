/**
 * A Go text/template subset for Docker's `--format`: fields `{{.A.B}}`, `{{.}}`, `{{json .X}}`,
 * pipelines `{{.X | upper}}`, `{{if}}/{{else}}/{{end}}`, `{{range}}`, `{{with}}`, variables in range
 * (`{{range $k, $v := .Labels}}`), trim markers `{{- -}}`, comments, string/number literals, and
 * the functions Docker adds (json, join, split, lower, upper, title, truncate, pad) plus Go's
 * builtins eq ne lt le gt ge and or not len index printf print println.
 */
import { SkiffError } from '../../errors.js';

type Value = unknown;
type Node =
  | { t: 'text'; s: string }
  | { t: 'action'; pipe: string }
  | { t: 'if' | 'with'; pipe: string; then: Node[]; else: Node[] }
  | { t: 'range'; pipe: string; vars: string[]; body: Node[]; else: Node[] };

export interface Template {
  render(data: unknown): string;
}

const bad = (msg: string): SkiffError => new SkiffError('EINVAL', `invalid --format template: ${msg}`);

function lex(src: string): (string | { action: string })[] {
  const out: (string | { action: string })[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push(src.slice(i));
      break;
    }
    let text = src.slice(i, open);
    let inner = open + 2;
    if (src[inner] === '-' && src[inner + 1] === ' ') {
      text = text.replace(/\s+$/, '');
      inner += 2;
    }
    const close = src.indexOf('}}', inner);
    if (close < 0) throw bad('unclosed action');
    let action = src.slice(inner, close);
    let next = close + 2;
    if (action.endsWith(' -')) {
      action = action.slice(0, -2);
      const m = /^\s*/.exec(src.slice(next))!;
      next += m[0].length;
    }
    if (text) out.push(text);
    const a = action.trim();
    if (!a.startsWith('/*')) out.push({ action: a });
    i = next;
  }
  return out;
}

function parse(tokens: (string | { action: string })[]): Node[] {
  let pos = 0;
  // {{if a}}..{{else if b}}..{{else}}..{{end}}: the chain shares one {{end}}
  const ifLike = (word: 'if' | 'with', pipe: string): Node => {
    const then = block(['else', 'end']);
    let els: Node[] = [];
    if (then.end.startsWith('else')) {
      const rest = then.end.slice(4).trim();
      if (rest.startsWith('if ') || rest.startsWith('with ')) {
        const w = rest.startsWith('if ') ? 'if' : 'with';
        els = [ifLike(w, rest.slice(w.length).trim())];
      } else els = block(['end']).nodes;
    }
    return { t: word, pipe, then: then.nodes, else: els };
  };
  const block = (stop: string[]): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const tok = tokens[pos++]!;
      if (typeof tok === 'string') {
        nodes.push({ t: 'text', s: tok });
        continue;
      }
      const a = tok.action;
      const word = a.split(/\s+/)[0]!;
      if (stop.includes(word) || (word === 'else' && stop.includes('else'))) return { nodes, end: a };
      if (word === 'if' || word === 'with') {
        nodes.push(ifLike(word, a.slice(word.length).trim()));
      } else if (word === 'range') {
        let pipe = a.slice(5).trim();
        let vars: string[] = [];
        const m = /^((?:\$\w*\s*,\s*)?\$\w*)\s*:=\s*(.*)$/.exec(pipe);
        if (m) {
          vars = m[1]!.split(',').map((v) => v.trim());
          pipe = m[2]!;
        }
        const body = block(['else', 'end']);
        const els = body.end === 'else' ? block(['end']).nodes : [];
        nodes.push({ t: 'range', pipe, vars, body: body.nodes, else: els });
      } else if (word === 'end' || word === 'else') {
        throw bad(`unexpected {{${a}}}`);
      } else nodes.push({ t: 'action', pipe: a });
    }
    if (stop.length) throw bad('unexpected EOF: missing {{end}}');
    return { nodes, end: '' };
  };
  return block([]).nodes;
}

function splitArgs(s: string): string[] {
  const out: string[] = [];
  const re = /"(?:[^"\\]|\\.)*"|`[^`]*`|\((?:[^()]|\([^()]*\))*\)|[^\s]+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out.push(m[0]);
  return out;
}

function goString(v: Value): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') {
    return `map[${Object.keys(v as object).sort().map((k) => `${k}:${goString((v as Record<string, Value>)[k])}`).join(' ')}]`;
  }
  return String(v);
}

function truthy(v: Value): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

function sprintf(fmt: string, args: Value[]): string {
  let i = 0;
  return fmt.replace(/%([-+ 0#]*\d*(?:\.\d+)?)([sdvqfx%])/g, (_, flags: string, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    let s: string;
    if (verb === 'd') s = String(Math.trunc(Number(a)));
    else if (verb === 'f') s = Number(a).toFixed(/\.(\d+)/.exec(flags)?.[1] ? Number(/\.(\d+)/.exec(flags)![1]) : 6);
    else if (verb === 'q') s = JSON.stringify(String(a));
    else if (verb === 'x') s = Number(a).toString(16);
    else s = goString(a);
    const w = /(\d+)/.exec(flags.replace(/\.\d+/, ''))?.[1];
    if (w) s = flags.includes('-') ? s.padEnd(Number(w)) : s.padStart(Number(w));
    return s;
  });
}

const FUNCS: Record<string, (...a: Value[]) => Value> = {
  json: (v) => JSON.stringify(v ?? null),
  join: (v, sep) => (Array.isArray(v) ? v.map(goString).join(String(sep)) : goString(v)),
  split: (s, sep) => String(s).split(String(sep)),
  lower: (s) => String(s).toLowerCase(),
  upper: (s) => String(s).toUpperCase(),
  title: (s) => String(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  truncate: (s, n) => String(s).slice(0, Number(n)),
  pad: (s, l, r) => ' '.repeat(Number(l)) + String(s) + ' '.repeat(Number(r)),
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  index: (v, ...keys) => keys.reduce<Value>((acc, k) => (acc as Record<string, Value> | undefined)?.[String(k)], v),
  printf: (f, ...a) => sprintf(String(f), a),
  print: (...a) => a.map(goString).join(''),
  println: (...a) => a.map(goString).join(' ') + '\n',
  eq: (a, ...b) => b.some((x) => x === a || String(x) === String(a)),
  ne: (a, b) => a !== b && String(a) !== String(b),
  lt: (a, b) => (a as number) < (b as number),
  le: (a, b) => (a as number) <= (b as number),
  gt: (a, b) => (a as number) > (b as number),
  ge: (a, b) => (a as number) >= (b as number),
  and: (...a) => a.find((x) => !truthy(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => truthy(x)) ?? a[a.length - 1],
  not: (a) => !truthy(a),
};

class Ctx {
  constructor(readonly dot: Value, readonly vars: Map<string, Value>) {}
}

function field(base: Value, pathText: string, whole: string): Value {
  let v = base;
  for (const p of pathText.split('.').filter(Boolean)) {
    if (v === null || v === undefined || typeof v !== 'object') {
      throw bad(`executing "${whole}": can't evaluate field ${p} in type ${v === null || v === undefined ? 'nil' : typeof v}`);
    }
    const o = v as Record<string, Value>;
    if (!(p in o)) {
      if (Array.isArray(v) || Object.keys(o).length === 0 || isMapLike(o)) return undefined;
      throw bad(`executing "${whole}": can't evaluate field ${p}`);
    }
    v = o[p];
  }
  return v;
}

/** Records with lower-case or dotted keys (labels, env maps) behave like Go maps: missing keys are empty. */
const isMapLike = (o: Record<string, Value>): boolean => Object.keys(o).some((k) => !/^[A-Z]/.test(k));

function evalArg(tok: string, ctx: Ctx): Value {
  if (tok.startsWith('"')) return JSON.parse(tok) as string;
  if (tok.startsWith('`')) return tok.slice(1, -1);
  if (tok.startsWith('(')) return evalPipe(tok.slice(1, -1), ctx);
  if (/^-?\d+(\.\d+)?$/.test(tok)) return Number(tok);
  if (tok === 'true' || tok === 'false') return tok === 'true';
  if (tok === 'nil') return null;
  if (tok === '.') return ctx.dot;
  if (tok.startsWith('.')) return field(ctx.dot, tok, tok);
  if (tok.startsWith('$')) {
    const dot = tok.indexOf('.');
    const name = dot < 0 ? tok : tok.slice(0, dot);
    if (!ctx.vars.has(name)) throw bad(`undefined variable: ${name}`);
    const v = ctx.vars.get(name);
    return dot < 0 ? v : field(v, tok.slice(dot), tok);
  }
  throw bad(`function "${tok}" not defined`);
}

function evalCommand(cmd: string, ctx: Ctx, piped: Value[] = []): Value {
  const toks = splitArgs(cmd.trim());
  if (toks.length === 0) throw bad('empty command');
  const head = toks[0]!;
  if (/^[a-z]\w*$/.test(head) && head !== 'true' && head !== 'false' && head !== 'nil') {
    const f = FUNCS[head];
    if (!f) throw bad(`function "${head}" not defined`);
    return f(...toks.slice(1).map((t) => evalArg(t, ctx)), ...piped);
  }
  if (toks.length > 1 || piped.length) throw bad(`can't give argument to non-function ${head}`);
  return evalArg(head, ctx);
}

function evalPipe(pipe: string, ctx: Ctx): Value {
  const decl = /^(\$\w+)\s*:=\s*(.*)$/.exec(pipe);
  if (decl) {
    ctx.vars.set(decl[1]!, evalPipe(decl[2]!, ctx));
    return '';
  }
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let cur = '';
  for (const ch of pipe) {
    if (quote) {
      cur += ch;
      if (ch === quote) quote = '';
      continue;
    }
    if (ch === '"' || ch === '`') quote = ch;
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === '|' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  let v: Value = evalCommand(parts[0]!, ctx);
  for (const p of parts.slice(1)) v = evalCommand(p, ctx, [v]);
  return v;
}

function exec(nodes: Node[], ctx: Ctx, out: string[]): void {
  for (const n of nodes) {
    switch (n.t) {
      case 'text':
        out.push(n.s);
        break;
      case 'action': {
        const v = evalPipe(n.pipe, ctx);
        if (!/^\$\w+\s*:=/.test(n.pipe)) out.push(typeof v === 'string' ? v : goString(v));
        break;
      }
      case 'if': {
        exec(truthy(evalPipe(n.pipe, ctx)) ? n.then : n.else, ctx, out);
        break;
      }
      case 'with': {
        const v = evalPipe(n.pipe, ctx);
        if (truthy(v)) exec(n.then, new Ctx(v, ctx.vars), out);
        else exec(n.else, ctx, out);
        break;
      }
      case 'range': {
        const v = evalPipe(n.pipe, ctx);
        const entries: [Value, Value][] = Array.isArray(v)
          ? v.map((x, i) => [i, x])
          : v && typeof v === 'object'
            ? Object.keys(v).sort().map((k) => [k, (v as Record<string, Value>)[k]])
            : [];
        if (!entries.length) exec(n.else, ctx, out);
        for (const [k, x] of entries) {
          const vars = new Map(ctx.vars);
          if (n.vars.length === 1) vars.set(n.vars[0]!, x);
          if (n.vars.length === 2) {
            vars.set(n.vars[0]!, k);
            vars.set(n.vars[1]!, x);
          }
          exec(n.body, new Ctx(x, vars), out);
        }
        break;
      }
    }
  }
}

export function compileTemplate(src: string): Template {
  const nodes = parse(lex(src));
  return {
    render(data: unknown): string {
      const out: string[] = [];
      exec(nodes, new Ctx(data, new Map([['$', data]])), out);
      return out.join('');
    },
  };
}
