/**
 * Typed reads of a request's JSON body: each value is checked where it is read, so a wrong type is
 * a 400 naming the field, never a crash further down.
 */
import { ApiError } from './http.js';

export type Json = Record<string, unknown>;

export function obj(v: unknown, what: string): Json {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, `${what}: want an object`);
  return v as Json;
}

export function str(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new ApiError(400, `${what}: want a string`);
  return v;
}

export function strList(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ApiError(400, `${what}: want a list of strings`);
  return v as string[];
}

export function bool(v: unknown, what: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new ApiError(400, `${what}: want true or false`);
  return v;
}

export function num(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ApiError(400, `${what}: want a number`);
  return v;
}

/** `{"k": "v"}` (Labels, Options, DriverOpts): string values only. */
export function strMap(v: unknown, what: string): Record<string, string> {
  const o = obj(v, what);
  for (const [k, x] of Object.entries(o)) if (typeof x !== 'string') throw new ApiError(400, `${what}.${k}: want a string`);
  return o as Record<string, string>;
}
