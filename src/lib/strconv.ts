/**
 * Go's strconv as Docker's CLI shows it: quoting (`%q`) in error messages, and the parsers behind
 * pflag's bool and int flags with their error words.
 */

// made at first use: a Unicode property class costs ~0.5 ms to build, and every command loads this module
let printable: RegExp | undefined;
const isPrintable = (ch: string): boolean => (printable ??= /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u).test(ch);

/** Go's strconv.Quote: a double-quoted Go string literal (printable Unicode kept literally). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') {
      out += '\\' + ch;
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdfff) {
      // A lone surrogate cannot occur in a Go string: the bytes would be invalid UTF-8 and
      // decoding would have produced U+FFFD.
      out += '\ufffd';
      continue;
    }
    if ((cp >= 0x20 && cp < 0x7f) || (cp > 0x7f && isPrintable(ch))) {
      out += ch;
      continue;
    }
    switch (cp) {
      case 0x07: out += '\\a'; continue;
      case 0x08: out += '\\b'; continue;
      case 0x0c: out += '\\f'; continue;
      case 0x0a: out += '\\n'; continue;
      case 0x0d: out += '\\r'; continue;
      case 0x09: out += '\\t'; continue;
      case 0x0b: out += '\\v'; continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
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

/** Go's strconv.ParseBool, or an Error with its words (`strconv.ParseBool: parsing "maybe": invalid syntax`). */
export function parseBoolStrict(s: string): boolean {
  const b = parseGoBool(s);
  if (b === undefined) throw new Error(`strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`);
  return b;
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * Go's strconv.ParseInt(s, 0, 64), what pflag's int flags use: an optional sign, then decimal, or
 * 0x/0o/0b/0 prefixed hex, octal, binary, with `_` between digits; an Error with Go's words otherwise.
 */
export function parseGoInt(s: string): number {
  const fail = (why: string): never => {
    throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: ${why}`);
  };
  const m = /^([+-]?)(0[xX][_0-9a-fA-F]+|0[oO][_0-7]+|0[bB][_01]+|0[_0-7]*|[1-9][_0-9]*)$/.exec(s);
  if (!m) return fail('invalid syntax');
  const body = m[2]!;
  // underscores only between digits (or right after a base prefix)
  if (/__|_$/.test(body)) fail('invalid syntax');
  const digits = body.replace(/_/g, '');
  const n = BigInt(/^0[0-7]+$/.test(digits) ? `0o${digits.slice(1)}` : digits);
  const v = m[1] === '-' ? -n : n;
  if (v > INT64_MAX || v < -INT64_MAX - 1n) fail('value out of range');
  return Number(v);
}
