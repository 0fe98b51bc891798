/**
 * Compose YAML → plain JSON values, one per document, with what the loader needs besides the values:
 * the line of each path (for error messages), and the paths tagged `!reset` (removed, and removed from
 * what the file overrides) or `!override` (replaces instead of merging). `<<` merge keys and aliases
 * are expanded; duplicate keys are errors; a cap on visited nodes stops alias bombs (compose-go's).
 */
import { createRequire } from 'node:module';
import type * as YamlLib from 'yaml';
import type { Document, LineCounter, Node } from 'yaml';
import { composeError } from './errors.js';
import { formatPath, type Json, type JsonMap, type TreePath } from './tree.js';
import { fastYaml } from './yaml-fast.js';

export interface YamlDoc {
  value: Json;
  /** `!reset` and `!override` paths: removed from the model this document is merged onto. */
  resets: TreePath[];
  /** formatPath(path) → 1-based line of its key (or item) in the file. */
  lines: Map<string, number>;
  /** 0-based position of the document in the file, empty documents counted (kube names documents by it). */
  index: number;
}

const MAX_NODE_VISITS = 100_000;

/**
 * The yaml package, loaded on first use (~5-10 ms of start-up that plain files, read by yaml-fast.ts,
 * do not need): the bundle's own require (esbuild bundles the package), or, run from tsc's ESM output
 * (the unit tests), node's.
 */
let yamlLib: typeof YamlLib | undefined;
function Y(): typeof YamlLib {
  return (yamlLib ??= (typeof require === 'function' ? require('yaml') : createRequire(import.meta.url)('yaml')) as typeof YamlLib);
}

/** Keys a compose file must not use as object keys in our plain-object model. */
const FORBIDDEN_KEYS = new Set(['__proto__']);

class Walker {
  visits = 0;
  resets: TreePath[] = [];
  lines = new Map<string, number>();
  /** Alias targets being expanded (an alias inside its own anchor would never end). */
  private readonly expanding = new Set<unknown>();
  constructor(
    private readonly doc: Document,
    private readonly lc: LineCounter,
    private readonly file: string,
  ) {}

  private line(node: { range?: [number, number, number] | null } | null | undefined): number | undefined {
    return node?.range ? this.lc.linePos(node.range[0]).line : undefined;
  }

  private fail(msg: string, node?: Node | null): never {
    const l = this.line(node);
    throw composeError(`failed to parse ${this.file}: ${l ? `line ${l}: ` : ''}${msg}`);
  }

  /** undefined: the node was `!reset` (drop it). */
  walk(node: unknown, path: TreePath, record: boolean): Json | undefined {
    if (++this.visits > MAX_NODE_VISITS) this.fail(`compose file exceeds maximum node visit limit (${MAX_NODE_VISITS})`);
    if (node === null || node === undefined) return null;
    if (Y().isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target) this.fail(`unknown alias ${node.source}`, node);
      if (this.expanding.has(target)) this.fail(`alias *${node.source} refers to a node that contains it`, node);
      this.expanding.add(target);
      try {
        return this.walk(target, path, false);
      } finally {
        this.expanding.delete(target);
      }
    }
    const tag = (node as Node).tag;
    if (tag === '!reset') {
      this.resets.push(path);
      return undefined;
    }
    if (tag === '!override') this.resets.push(path);
    if (Y().isScalar(node)) {
      let v = node.value;
      if (tag === '!override' && typeof v === 'string' && node.type === 'PLAIN') v = Y().parse(v) as unknown;
      if (v === undefined || v === null) return null;
      if (typeof v === 'string' || typeof v === 'boolean') return v;
      // YAML 1.1 octal (`mode: 0440`), as go-yaml reads it
      if (typeof v === 'number' && node.type === 'PLAIN' && typeof node.source === 'string' && /^0[0-7]+$/.test(node.source)) return parseInt(node.source, 8);
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      return String(v);
    }
    if (Y().isSeq(node)) {
      const out: Json[] = [];
      for (const item of node.items) {
        const p = [...path, out.length];
        if (record) this.note(p, item as Node);
        const v = this.walk(item, p, record);
        if (v !== undefined) out.push(v);
      }
      return out;
    }
    if (Y().isMap(node)) {
      const out: JsonMap = {};
      const merges: unknown[] = [];
      for (const pair of node.items) {
        const k = pair.key;
        const key = Y().isScalar(k) ? k.value : k;
        if (key === '<<' && Y().isScalar(k) && k.type === 'PLAIN') {
          merges.push(pair.value);
          continue;
        }
        if (key !== null && typeof key === 'object') this.fail('mapping keys must be strings', k as Node);
        const name = String(key ?? 'null');
        if (FORBIDDEN_KEYS.has(name)) this.fail(`invalid key ${JSON.stringify(name)}`, k as Node);
        if (Object.prototype.hasOwnProperty.call(out, name)) this.fail(`mapping key ${JSON.stringify(name)} already defined`, k as Node);
        const p = [...path, name];
        if (record) this.note(p, k as Node);
        const v = this.walk(pair.value, p, record);
        if (v !== undefined) out[name] = v;
      }
      for (const m of merges) this.merge(out, m, path);
      return out;
    }
    return this.fail('unsupported YAML node', node as Node);
  }

  /** `<<: *base` or `<<: [*a, *b]`: keys not already set are taken from the merged maps, earlier first. */
  private merge(out: JsonMap, src: unknown, path: TreePath): void {
    const target = Y().isAlias(src) ? src.resolve(this.doc) : src;
    if (this.expanding.has(target)) this.fail('merge key << refers to a node that contains it', src as Node);
    if (Y().isSeq(target)) {
      for (const item of target.items) this.merge(out, item, path);
      return;
    }
    const v = this.walk(target, path, false);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail('merge key << must reference a mapping', src as Node);
    for (const [k, x] of Object.entries(v)) if (!Object.prototype.hasOwnProperty.call(out, k)) out[k] = x;
  }

  private note(path: TreePath, node: Node | null | undefined): void {
    const l = this.line(node);
    if (l !== undefined) this.lines.set(formatPath(path), l);
  }
}

/** Parses every document of a compose file. Syntax errors name the file and line. */
export function readYamlDocuments(text: string, file: string): YamlDoc[] {
  const fast = fastYaml(text);
  if (fast) return [{ value: fast.value, resets: [], lines: fast.lines, index: 0 }];
  return readWithYaml(text, file);
}

/** readYamlDocuments by the `yaml` package (every file the fast path does not take). */
export function readWithYaml(text: string, file: string): YamlDoc[] {
  const lib = Y();
  const lc = new lib.LineCounter();
  const docs = lib.parseAllDocuments(text, { lineCounter: lc, merge: false, uniqueKeys: false, strict: false });
  const list = Array.isArray(docs) ? docs : [];
  const out: YamlDoc[] = [];
  for (const [index, doc] of list.entries()) {
    const err = doc.errors[0];
    if (err) {
      const where = err.linePos ? `line ${err.linePos[0].line}, column ${err.linePos[0].col}: ` : '';
      throw composeError(`failed to parse ${file}: ${where}${err.message.split(' at line ')[0]!.split('\n')[0]}`);
    }
    if (doc.contents === null) continue;
    const w = new Walker(doc, lc, file);
    const value = w.walk(doc.contents, [], true);
    out.push({ value: value === undefined ? null : value, resets: w.resets, lines: w.lines, index });
  }
  return out;
}
