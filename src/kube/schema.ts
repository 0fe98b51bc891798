/**
 * Validation against Kubernetes' published schemas: the OpenAPI-derived validators of kubernetes-models,
 * bundled at build time (scripts/kube-schema.mjs → schema-validate.generated.ts). The generated module is
 * ~420 KB: commands reach src/kube through `await import()` (as every command but run/create reaches its
 * domain), so esbuild's bundle evaluates it only when a kube command runs; other commands never do.
 * The schemas check types, required fields, enums and formats (int32, quantity, ...); what the API
 * server checks beyond them (names, selectors, references) is in validate.ts.
 */
import { problems, type AjvError } from '../compose/schema.js';
import { validators as generated } from './schema-validate.generated.js';
import type { Kind } from './types.js';

type Validator = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

const validators = generated as unknown as Record<Kind, Validator>;

const FORMAT_WORDS: Record<string, string> = {
  int32: 'must be an integer from -2147483648 to 2147483647',
  int64: 'must be an integer',
  quantity: "must be a quantity (a number with an optional suffix such as 500m, 64Mi or 1G)",
  byte: 'must be base64',
  'date-time': 'must be an RFC 3339 date and time',
};

/** The generated validators carry no messages: say what each keyword means. */
function describe(e: AjvError): AjvError {
  if (e.message !== undefined) return e;
  const p = e.params;
  let message: string;
  switch (e.keyword) {
    case 'format':
      message = FORMAT_WORDS[String(p.format)] ?? `must be in format ${String(p.format)}`;
      break;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      message = `must be ${String(p.comparison)} ${String(p.limit)}`;
      break;
    case 'minItems':
    case 'maxItems':
    case 'minLength':
    case 'maxLength':
      message = `must have ${e.keyword.startsWith('min') ? 'at least' : 'at most'} ${String(p.limit)} ${e.keyword.endsWith('Items') ? 'items' : 'characters'}`;
      break;
    case 'oneOf':
    case 'anyOf':
      message = 'must match one of the allowed forms';
      break;
    default:
      message = e.keyword;
  }
  return { ...e, message };
}

export interface SchemaProblem {
  path: string;
  line?: number;
  message: string;
}

/** The schema's verdict on one object of a kind skiff implements: problems, empty when valid. */
export function schemaProblems(kind: Kind, obj: unknown, lines: ReadonlyMap<string, number> = new Map()): SchemaProblem[] {
  const v = validators[kind];
  if (v(obj)) return [];
  return problems((v.errors ?? []).map(describe), obj, lines);
}
