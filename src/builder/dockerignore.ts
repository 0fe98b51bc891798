/**
 * `.dockerignore` with Docker's semantics (moby/patternmatcher and its ignorefile reader):
 * - `#` lines are comments, blank lines are skipped, each pattern is trimmed and cleaned like Go's
 *   filepath.Clean, and a leading `/` is stripped (patterns are relative to the context root);
 * - `*` matches within one path element, `?` one character, `[...]` a class, `\` escapes,
 *   `**` any number of elements (including none);
 * - `!pattern` re-includes; the last pattern that matches a path decides;
 * - a pattern that matches a parent directory matches everything under it.
 */
import path from 'node:path';

interface Pattern {
  text: string;
  exclusion: boolean;
  re: RegExp;
}

/** Go's filepath.Clean for slash paths. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const s = out.join('/');
  return rooted ? '/' + s : s || '.';
}

/** The patterns of a .dockerignore file, as Docker's reader returns them (exclusions keep their `!`). */
export function readIgnorePatterns(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#')) continue;
    let p = line.trim();
    if (p === '') continue;
    let invert = false;
    if (p.startsWith('!')) {
      invert = true;
      p = p.slice(1).trim();
    }
    if (p.length > 0) {
      p = cleanPath(p);
      if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
    }
    out.push(invert ? `!${p}` : p);
  }
  return out;
}

const SPECIAL = new Set([...'.+()|{}$^']);

/** One pattern → an anchored regular expression, as patternmatcher compiles it. */
export function patternRegex(pattern: string): RegExp {
  let re = '^';
  const s = [...pattern];
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '*') {
      if (s[i + 1] === '*') {
        i++;
        if (s[i + 1] === '/') i++;
        if (i + 1 >= s.length) re += '.*';
        else re += '(.*/)?';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '\\') {
      i++;
      if (i < s.length) re += '\\' + s[i];
      else re += '\\\\';
    } else if (ch === '[') {
      let j = i + 1;
      let cls = '';
      if (s[j] === '^' || s[j] === '!') {
        cls += '^';
        j++;
      }
      while (j < s.length && s[j] !== ']') {
        cls += s[j] === '\\' ? '\\' + (s[++j] ?? '') : s[j];
        j++;
      }
      if (j >= s.length) re += '\\[';
      else {
        re += `[${cls}]`;
        i = j;
      }
    } else if (SPECIAL.has(ch)) re += '\\' + ch;
    else re += ch;
  }
  return new RegExp(re + '$', 's');
}

export class IgnoreMatcher {
  private readonly patterns: Pattern[];
  constructor(patterns: string[]) {
    this.patterns = patterns
      .map((p) => {
        const exclusion = p.startsWith('!');
        const text = exclusion ? p.slice(1) : p;
        return { text, exclusion, re: patternRegex(text) };
      })
      .filter((p) => p.text !== '' && p.text !== '.');
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** Whether some `!` pattern exists (then an excluded directory must still be walked). */
  get hasExclusions(): boolean {
    return this.patterns.some((p) => p.exclusion);
  }

  /** patternmatcher's MatchesOrParentMatches: is `file` (slash path relative to the context) ignored? */
  ignored(file: string): boolean {
    const f = cleanPath(file);
    const parent = path.posix.dirname(f);
    const parentDirs = parent === '.' ? [] : parent.split('/');
    let matched = false;
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      let m = p.re.test(f);
      if (!m) {
        for (let i = 0; i < parentDirs.length && !m; i++) m = p.re.test(parentDirs.slice(0, i + 1).join('/'));
      }
      if (m) matched = !p.exclusion;
    }
    return matched;
  }
}
