/**
 * The OpenAPI formats Kubernetes' schemas use, as ajv format definitions for the generated validators
 * (schema-validate.generated.ts imports `formats` from here; see scripts/kube-schema.mjs). A format
 * applies to values of its type only; other types pass (the schema's `type` says what they must be).
 */
import { QUANTITY } from './quantity.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DATE_TIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/** ajv's format definition: the generated code calls `validate(v)`, or `validate.test(v)` for a pattern. */
interface Format {
  validate: ((v: unknown) => boolean) | RegExp;
}

const intIn = (lo: number, hi: number): Format => ({
  validate: (v) => typeof v !== 'number' || (Number.isInteger(v) && v >= lo && v <= hi),
});
const str = (test: (s: string) => boolean): Format => ({ validate: (v) => typeof v !== 'string' || test(v) });

export const formats: Record<string, Format> = {
  int32: intIn(-(2 ** 31), 2 ** 31 - 1),
  int64: intIn(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  double: { validate: () => true },
  byte: str((s) => BASE64.test(s)),
  // compiled from a pattern: the generated code calls validate.test() (on strings only)
  quantity: { validate: QUANTITY },
  'date-time': str((s) => DATE_TIME.test(s)),
};
