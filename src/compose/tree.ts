/**
 * Paths into a compose document (`services.web.ports[0]`) and the patterns the loader's rules are keyed
 * by (`services.*.ports`, `*` = any key or index, `[]` = any index), as compose-go's tree.Path.
 */
export type PathSeg = string | number;
export type TreePath = readonly PathSeg[];

/** `services.web.ports[0]`: keys joined by dots, indices in brackets (keys with dots stay as they are). */
export function formatPath(path: TreePath): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else s += s === '' ? seg : `.${seg}`;
  }
  return s;
}

export type Pattern = readonly string[];

export function pattern(text: string): Pattern {
  return text.split('.');
}

export function matches(path: TreePath, pat: Pattern): boolean {
  if (path.length !== pat.length) return false;
  for (let i = 0; i < pat.length; i++) {
    const p = pat[i]!;
    const seg = path[i]!;
    if (p === '*') continue;
    if (p === '[]') {
      if (typeof seg !== 'number') return false;
      continue;
    }
    if (typeof seg === 'number' || seg !== p) return false;
  }
  return true;
}

/** The first rule whose pattern the path matches. */
export function ruleFor<T>(rules: ReadonlyArray<readonly [Pattern, T]>, path: TreePath): T | undefined {
  for (const [pat, rule] of rules) if (matches(path, pat)) return rule;
  return undefined;
}

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
export type JsonMap = { [k: string]: Json };

export function isMap(v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepClone<T extends Json | undefined>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => deepClone(x)) as T;
  if (isMap(v)) {
    const out: JsonMap = {};
    for (const [k, x] of Object.entries(v)) out[k] = deepClone(x);
    return out as T;
  }
  return v;
}

/** Sets a key taken from user data (never the prototype, whatever the key). */
export function setOwn(m: JsonMap, key: string, value: Json): void {
  Object.defineProperty(m, key, { value, enumerable: true, writable: true, configurable: true });
}

export function hasOwn(m: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, key);
}
