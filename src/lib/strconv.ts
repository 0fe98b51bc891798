/**
 * Go's strconv as Docker's output shows it: quoting (`%q`) in error messages.
 */

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

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
    if ((cp >= 0x20 && cp < 0x7f) || (cp > 0x7f && PRINTABLE.test(ch))) {
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
