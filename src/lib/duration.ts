/**
 * Go durations (`1m30s`, `500ms`), as Docker's flags, filters, Dockerfiles and compose files write
 * them: one parser (Go's time.ParseDuration, with its error words) and Go's Duration.String().
 */
import { goQuote } from './strconv.js';

const DURATION_UNITS: Record<string, number> = {
  ns: 1, us: 1e3, '\u00b5s': 1e3, '\u03bcs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};

/**
 * Go's time.ParseDuration, in nanoseconds. Throws an Error with Go's message when the text is not
 * a duration ("300ms", "-1.5h", "2h45m" are; "5", "1d" are not).
 */
export function parseDurationNs(text: string): number {
  const bad = (msg: string): never => {
    throw new Error(msg);
  };
  let s = text;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') bad(`time: invalid duration ${goQuote(text)}`);
  let total = 0;
  while (s !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s)!;
    const intPart = m[1] ?? '';
    const frac = m[2] ?? '';
    if (intPart === '' && frac === '') bad(`time: invalid duration ${goQuote(text)}`);
    s = s.slice(m[0].length);
    let i = 0;
    while (i < s.length && s[i] !== '.' && !(s[i]! >= '0' && s[i]! <= '9')) i++;
    if (i === 0) bad(`time: missing unit in duration ${goQuote(text)}`);
    const unit = s.slice(0, i);
    s = s.slice(i);
    const mult = DURATION_UNITS[unit];
    if (mult === undefined) bad(`time: unknown unit ${goQuote(unit)} in duration ${goQuote(text)}`);
    total += Number(`${intPart || '0'}.${frac || '0'}`) * mult!;
  }
  if (total > 2 ** 63 - 1) bad(`time: invalid duration ${goQuote(text)}`);
  total = Math.round(total);
  return neg ? -total : total;
}

/** Go's time.ParseDuration ("1h30m", "10m", "2.5s", "-1h") in milliseconds; undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  try {
    return parseDurationNs(text) / 1e6;
  } catch {
    return undefined;
  }
}

/** Go's time.Duration.String() of a number of milliseconds (`1m30s`, `500ms`, `0s`). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let ns = Math.round(Math.abs(ms) * 1e6);
  let out: string;
  if (ns < 1e9) {
    if (ns < 1e3) out = `${ns}ns`;
    else if (ns < 1e6) out = `${trim(ns / 1e3)}\u00b5s`;
    else out = `${trim(ns / 1e6)}ms`;
  } else {
    const h = Math.floor(ns / 3.6e12);
    ns -= h * 3.6e12;
    const m = Math.floor(ns / 6e10);
    ns -= m * 6e10;
    const s = trim(ns / 1e9);
    out = h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
  }
  return neg ? `-${out}` : out;
}

const trim = (x: number): string => String(Number(x.toFixed(9)));
