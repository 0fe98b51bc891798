/**
 * A multi-document Kubernetes YAML stream → the objects of the kinds skiff implements, each validated
 * (validate.ts), with its document number (1-based, empty documents counted, as an editor shows them)
 * and a path → line map. A `v1 List` counts as its items (paths `items[N]...`). What is not Kubernetes
 * (not a mapping, no kind or apiVersion, a known kind under another apiVersion) is a problem by
 * document number; kinds skiff does not implement are warnings by kind and name, and skipped.
 */
import { SkiffError } from '../errors.js';
import { readYamlDocuments } from '../compose/yaml.js';
import { isMap, type Json } from '../compose/tree.js';
import { KINDS, type Kind, type KubeObject } from './types.js';
import { objectProblems } from './validate.js';
import type { KubeProblem, KubeWarning } from './errors.js';

export interface KubeDocument {
  /** 1-based position in the stream. */
  document: number;
  /** `items[2]` for an item of a List, '' otherwise. */
  path: string;
  kind: Kind;
  name: string;
  object: KubeObject;
  /** Paths inside the object → lines in the file. */
  lines: Map<string, number>;
}

export interface ReadResult {
  documents: KubeDocument[];
  problems: KubeProblem[];
  warnings: KubeWarning[];
}

const isKind = (k: string): k is Kind => Object.prototype.hasOwnProperty.call(KINDS, k);

/** The lines of `prefix...` paths, rebased to the item. */
function sublines(lines: ReadonlyMap<string, number>, prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [p, l] of lines) {
    if (p === prefix) out.set('', l);
    else if (p.startsWith(`${prefix}.`)) out.set(p.slice(prefix.length + 1), l);
  }
  return out;
}

function classify(value: Json, document: number, path: string, lines: Map<string, number>, r: ReadResult): void {
  const at = (p: string): string => (path === '' ? p : p === '' ? path : `${path}.${p}`);
  if (!isMap(value)) {
    r.problems.push({ document, path: path, message: 'not a Kubernetes object (a mapping with apiVersion, kind and metadata)' });
    return;
  }
  const kind = typeof value.kind === 'string' ? value.kind : undefined;
  const apiVersion = typeof value.apiVersion === 'string' ? value.apiVersion : undefined;
  const name = isMap(value.metadata) && typeof value.metadata.name === 'string' ? value.metadata.name : undefined;
  const where = { document, ...(kind ? { kind } : {}), ...(name ? { name } : {}) };
  if (!kind) r.problems.push({ ...where, path: at('kind'), message: 'missing kind: not a Kubernetes object' });
  if (!apiVersion) r.problems.push({ ...where, path: at('apiVersion'), message: 'missing apiVersion: not a Kubernetes object' });
  if (!kind || !apiVersion) return;
  if (kind === 'List' && apiVersion === 'v1') {
    const items = Array.isArray(value.items) ? value.items : [];
    items.forEach((item, i) => classify(item, document, at(`items[${i}]`), sublines(lines, `items[${i}]`), r));
    return;
  }
  if (!isKind(kind)) {
    r.warnings.push({ ...where, message: `kind ${kind} (${apiVersion}) is not implemented by skiff: skipped` });
    return;
  }
  if (apiVersion !== KINDS[kind]) {
    r.problems.push({ ...where, path: at('apiVersion'), line: lines.get('apiVersion'), message: `apiVersion ${JSON.stringify(apiVersion)} is not one of ${kind}'s: use ${KINDS[kind]}` });
    return;
  }
  const problems = objectProblems(kind, value, lines);
  for (const p of problems) r.problems.push({ ...where, ...p, path: at(p.path) });
  if (problems.length === 0) r.documents.push({ document, path, kind, name: name ?? '', object: value as unknown as KubeObject, lines });
}

/** Reads and validates a stream; problems and warnings come back as data (nothing thrown for them). */
export function readKubeYaml(text: string, file = '-'): ReadResult {
  let docs;
  try {
    docs = readYamlDocuments(text, file);
  } catch (e) {
    // the YAML reader speaks compose's exit code; a kube file's syntax error is skiff's (125)
    throw e instanceof SkiffError ? new SkiffError('EINVAL', e.message) : e;
  }
  const r: ReadResult = { documents: [], problems: [], warnings: [] };
  // an empty document (`---` alone, comments) is nothing, as for kubectl
  for (const d of docs) if (d.value !== null) classify(d.value, d.index + 1, '', d.lines, r);
  return r;
}
