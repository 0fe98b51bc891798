/**
 * `command: echo "a b"` → ["echo", "a b"]: the split compose-go does on string commands and
 * entrypoints (mattn/go-shellwords without variable expansion): blanks separate words, single quotes
 * are literal, double quotes and backslashes escape.
 */
import { composeError } from './errors.js';

export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let buf = '';
  let inWord = false;
  let quote: '"' | "'" | '' = '';
  let escaped = false;
  for (const c of line) {
    if (escaped) {
      buf += c;
      escaped = false;
      inWord = true;
      continue;
    }
    if (c === '\\' && quote !== "'") {
      if (quote === '"') {
        escaped = true;
        continue;
      }
      escaped = true;
      continue;
    }
    if (quote) {
      if (c === quote) quote = '';
      else buf += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(buf);
      buf = '';
      inWord = false;
      continue;
    }
    buf += c;
    inWord = true;
  }
  if (quote || escaped) throw composeError(`invalid command line string: ${JSON.stringify(line)}`);
  if (inWord) words.push(buf);
  return words;
}
