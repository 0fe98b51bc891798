/**
 * Small Go-compatibility helpers for the Dockerfile front end. BuildKit is written in Go, and the
 * exact behaviour of a few Go library functions shows up in its output (unicode.IsSpace in word
 * splitting, strconv.ParseBool in --mount; strconv.Quote and time.ParseDuration, which the rest of
 * skiff uses too, are in src/lib/). These are re-implementations from their documented behaviour,
 * not translations.
 */
import { goQuote } from '../../lib/strconv.js';

/** Go's unicode.IsSpace: the Latin-1 spaces plus the Unicode White_Space property. */
export function isSpace(cp: number): boolean {
  if (cp <= 0xff) {
    return cp === 0x20 || (cp >= 0x09 && cp <= 0x0d) || cp === 0x85 || cp === 0xa0;
  }
  return (
    cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 ||
    cp === 0x202f || cp === 0x205f || cp === 0x3000
  );
}

/** Go's strings.TrimLeftFunc(s, unicode.IsSpace). Every Go space is in the BMP, so code units suffice. */
export function trimLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i === 0 ? s : s.slice(i);
}

/** Go's strings.TrimRightFunc(s, unicode.IsSpace). */
export function trimRightSpace(s: string): string {
  let j = s.length;
  while (j > 0 && isSpace(s.charCodeAt(j - 1))) j--;
  return j === s.length ? s : s.slice(0, j);
}

/** Go's strings.TrimSpace (unlike String.prototype.trim it keeps U+FEFF and drops U+0085). */
export function trimSpace(s: string): string {
  return trimRightSpace(trimLeftSpace(s));
}

/** Go's fmt `%q` of a []string: `["a" "b"]`. */
export function goQuoteList(list: readonly string[]): string {
  return '[' + list.map(goQuote).join(' ') + ']';
}

/** Replace lone UTF-16 surrogates by U+FFFD, as Go's decoders do with invalid input. */
export function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** Go's strconv.ParseBool; undefined when the text is not a boolean. */
export function parseGoBool(s: string): boolean | undefined {
  switch (s) {
    case '1': case 't': case 'T': case 'true': case 'TRUE': case 'True':
      return true;
    case '0': case 'f': case 'F': case 'false': case 'FALSE': case 'False':
      return false;
  }
  return undefined;
}

/** Go's strconv.ParseUint(s, base, 32) for base 8 or 10 (no prefixes, no underscores). */
export function parseUint32(s: string, base: 8 | 10): number | undefined {
  const re = base === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!re.test(s)) return undefined;
  const n = parseInt(s, base);
  return n <= 0xffffffff ? n : undefined;
}

/** docker/go-units RAMInBytes: "64m", "1.5GiB", "512k" with binary multipliers. */
export function ramInBytes(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) return undefined;
  const n = parseFloat(m[1]!);
  if (Number.isNaN(n)) return undefined;
  const mult: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };
  return Math.trunc(m[2] ? n * mult[m[2].toLowerCase()]! : n);
}

/**
 * One CSV record split into fields (encoding/csv rules: `"` quotes a whole field, `""` inside quotes
 * is a quote, a bare `"` in an unquoted field is an error). Used for `--mount` / `--device` values.
 */
export function csvFields(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (s[i] === '"') {
      let field = '';
      i++;
      for (;;) {
        const q = s.indexOf('"', i);
        if (q < 0) throw new Error('extraneous or missing " in quoted-field');
        field += s.slice(i, q);
        i = q + 1;
        if (s[i] === '"') {
          field += '"';
          i++;
          continue;
        }
        if (i < s.length && s[i] !== ',') throw new Error('extraneous or missing " in quoted-field');
        break;
      }
      out.push(field);
    } else {
      let j = s.indexOf(',', i);
      if (j < 0) j = s.length;
      const field = s.slice(i, j);
      if (field.includes('"')) throw new Error('bare " in non-quoted-field');
      out.push(field);
      i = j;
    }
    if (i >= s.length) return out;
    i++; // the comma
    if (i === s.length) {
      out.push('');
      return out;
    }
  }
}

function levenshtein(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length]!;
}

/**
 * BuildKit's "did you mean" helper: the closest option within edit distance 2, or '' (also '' when
 * the value is itself an option, since the error is then about something else).
 */
export function suggest(value: string, options: readonly string[], caseSensitive: boolean): string {
  const v = caseSensitive ? value : value.toLowerCase();
  let match = '';
  let min = 3;
  for (const o of options) {
    const opt = caseSensitive ? o : o.toLowerCase();
    if (opt === v) return '';
    const d = levenshtein(v, opt);
    if (d < min) {
      min = d;
      if (caseSensitive) match = opt;
      else if (value === value.toLowerCase()) match = opt.toLowerCase();
      else if (value === value.toUpperCase()) match = opt.toUpperCase();
      else match = opt;
    }
  }
  return match;
}

/** `msg (did you mean X?)` when a suggestion exists. */
export function withSuggestion(msg: string, value: string, options: readonly string[], caseSensitive: boolean): string {
  const m = suggest(value, options, caseSensitive);
  return m ? `${msg} (did you mean ${m}?)` : msg;
}
