/**
 * Validation against the Compose Specification's JSON schema (compose-spec.json in this folder, a
 * byte-for-byte copy of compose-spec/compose-spec's schema/compose-spec.json, Apache-2.0). The schema is
 * compiled at build time by ajv's standalone code generation (scripts/compose-schema.mjs, `make ts`)
 * into schema-validate.generated.ts: no ajv and no schema compile at run time.
 * The schema accepts `${VAR}` strings in typed fields, so a file validates before interpolation.
 */
import { validate as generated } from './schema-validate.generated.js';
import { composeError } from './errors.js';
import { formatPath, isMap, type TreePath } from './tree.js';

export interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}
type Validator = ((data: unknown) => boolean) & { errors?: AjvError[] | null };
const validateFn = generated as unknown as Validator;

export interface SchemaProblem {
  path: string;
  line?: number;
  message: string;
}

/** Turns an instance path (`/services/web/ports/0`) into keys and indices, by the data it points into. */
function toTreePath(pointer: string, data: unknown): TreePath {
  if (pointer === '') return [];
  const out: (string | number)[] = [];
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      out.push(Number(seg));
      cur = cur[Number(seg)];
    } else {
      out.push(seg);
      cur = isMap(cur) ? cur[seg] : undefined;
    }
  }
  return out;
}

const article = (t: string): string => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);
function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** ajv's errors → one problem per place, the most specific first (oneOf branches folded); also used by src/kube. */
export function problems(errors: AjvError[], data: unknown, lines: ReadonlyMap<string, number>): SchemaProblem[] {
  const byPath = new Map<string, { path: TreePath; errs: AjvError[] }>();
  for (const e of errors) {
    let p = toTreePath(e.instancePath, data);
    if (e.keyword === 'additionalProperties') p = [...p, String(e.params.additionalProperty)];
    const key = formatPath(p);
    const slot = byPath.get(key) ?? { path: p, errs: [] };
    slot.errs.push(e);
    byPath.set(key, slot);
  }
  const keys = [...byPath.keys()];
  const out: SchemaProblem[] = [];
  for (const [key, { path, errs }] of byPath) {
    // a summary (oneOf/anyOf) where a deeper error explains it says nothing more
    const deeper = keys.some((k) => k !== key && (key === '' || k.startsWith(key + '.') || k.startsWith(key + '[')));
    let list = errs.filter((e) => !['oneOf', 'anyOf', 'if', 'not'].includes(e.keyword) || (!deeper && errs.length === 1));
    if (list.length === 0) {
      if (deeper) continue;
      list = errs;
    }
    const specific = list.filter((e) => e.keyword !== 'type');
    let message: string;
    if (specific.length > 0) {
      const e = specific[0]!;
      switch (e.keyword) {
        case 'additionalProperties':
          message = `additional property ${JSON.stringify(e.params.additionalProperty)} is not allowed`;
          break;
        case 'required':
          message = `missing required property ${JSON.stringify(e.params.missingProperty)}`;
          break;
        case 'enum':
          message = `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
          break;
        case 'pattern':
          message = `does not match pattern ${JSON.stringify(e.params.pattern)}`;
          break;
        default:
          message = e.message ?? e.keyword;
      }
      if (deeper && ['oneOf', 'anyOf'].includes(e.keyword)) continue;
    } else {
      const types = [...new Set(list.flatMap((e) => String(e.params.type).split(',')))];
      message = `must be ${orList(types.map(article))}`;
    }
    const where = formatPath(path);
    const line = lines.get(where) ?? nearestLine(path, lines);
    out.push(line === undefined ? { path: where, message } : { path: where, line, message });
  }
  return out;
}

function nearestLine(path: TreePath, lines: ReadonlyMap<string, number>): number | undefined {
  for (let n = path.length - 1; n > 0; n--) {
    const l = lines.get(formatPath(path.slice(0, n)));
    if (l !== undefined) return l;
  }
  return undefined;
}

/** The schema's verdict on one file's model: problems, empty when valid. */
export function schemaProblems(data: unknown, lines: ReadonlyMap<string, number> = new Map()): SchemaProblem[] {
  if (validateFn(data)) return [];
  return problems(validateFn.errors ?? [], data, lines);
}

/** Throws `validating FILE: services.web.ports[0] (line 7): must be ...` (several problems joined by "; "). */
export function validateSchema(data: unknown, file: string, lines: ReadonlyMap<string, number> = new Map()): void {
  const list = schemaProblems(data, lines);
  if (list.length === 0) return;
  const text = list
    .slice(0, 5)
    .map((p) => `${p.path === '' ? '(root)' : p.path}${p.line !== undefined ? ` (line ${p.line})` : ''}: ${p.message}`)
    .join('; ');
  throw composeError(`validating ${file}: ${text}${list.length > 5 ? `; and ${list.length - 5} more` : ''}`);
}
