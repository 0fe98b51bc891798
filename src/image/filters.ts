/**
 * `--filter key=value` for `images` and `image prune`, as Docker reads them: the same key given
 * twice means either value, different keys must all hold. `reference` patterns are Go `path.Match`
 * globs (`*` and `?` stop at `/`) tried against `name:tag` and against `name` (Docker's
 * FamiliarMatch); `until` is a timestamp (RFC 3339, or Unix seconds) or a Go duration before now.
 */
import { SkiffError } from '../errors.js';
import { parseGoDuration } from '../lib/duration.js';

export interface LabelFilter {
  key: string;
  value?: string;
}

export interface ImageFilters {
  dangling?: boolean;
  reference: string[];
  before: string[];
  since: string[];
  label: LabelFilter[];
  /** Milliseconds since the epoch. */
  until?: number;
}

export type ImageFilterKey = 'dangling' | 'reference' | 'before' | 'since' | 'label' | 'until';

/** Parse `key=value` strings, accepting only `allowed` keys (Docker: `invalid filter 'x'`). */
export function parseImageFilters(list: string[], allowed: readonly ImageFilterKey[], now = Date.now()): ImageFilters {
  const f: ImageFilters = { reference: [], before: [], since: [], label: [] };
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new SkiffError('EINVAL', `bad format of filter (expected name=value): ${item}`);
    const key = item.slice(0, eq).trim().toLowerCase();
    const value = item.slice(eq + 1).trim();
    if (!(allowed as readonly string[]).includes(key)) throw new SkiffError('EINVAL', `invalid filter '${key}'`);
    switch (key as ImageFilterKey) {
      case 'dangling': {
        const v = value.toLowerCase();
        if (!['true', 'false', '1', '0'].includes(v)) throw new SkiffError('EINVAL', `invalid filter 'dangling=${value}'`);
        f.dangling = v === 'true' || v === '1';
        break;
      }
      case 'reference':
        f.reference.push(value);
        break;
      case 'before':
        f.before.push(value);
        break;
      case 'since':
        f.since.push(value);
        break;
      case 'label': {
        const i = value.indexOf('=');
        f.label.push(i < 0 ? { key: value } : { key: value.slice(0, i), value: value.slice(i + 1) });
        break;
      }
      case 'until':
        f.until = parseUntil(value, now);
        break;
    }
  }
  return f;
}

/** `until=`: Unix seconds (with fraction), an RFC 3339 date or date-time, or a duration back from `now`. */
export function parseUntil(value: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const d = parseGoDuration(value);
  if (d !== undefined) return now - d;
  if (/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) {
    const t = Date.parse(value.replace(' ', 'T'));
    if (!Number.isNaN(t)) return t;
  }
  throw new SkiffError('EINVAL', `invalid filter 'until=${value}': not a timestamp (RFC 3339 or Unix seconds) or a duration (e.g. 24h)`);
}

/** Go's path.Match pattern as a RegExp over the whole string. */
function globRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += escape(pattern[++i]!);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new SkiffError('EINVAL', `invalid reference filter "${pattern}": syntax error in pattern`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = `!${cls.slice(1)}`;
      re += cls.startsWith('!') ? `[^/${cls.slice(1).replace(/[\\\]]/g, '\\$&')}]` : `[${cls.replace(/[\\\]]/g, '\\$&')}]`;
      i = end;
    } else re += escape(c);
  }
  return new RegExp(`^${re}$`);
}

const escape = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Docker's FamiliarMatch: the pattern against `name:tag`, then against `name`. */
export function referenceMatches(pattern: string, name: string, tag?: string): boolean {
  const re = globRegExp(pattern);
  return (tag !== undefined && re.test(`${name}:${tag}`)) || re.test(name);
}

/** Whether an image's labels satisfy every label filter (`key` present, or `key=value`). */
export function labelsMatch(filters: LabelFilter[], labels: Record<string, string> | undefined): boolean {
  return filters.every((f) => labels !== undefined && Object.hasOwn(labels, f.key) && (f.value === undefined || labels[f.key] === f.value));
}
