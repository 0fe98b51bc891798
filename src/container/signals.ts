/** Signal names and numbers as Docker accepts them: "TERM", "SIGTERM", "15", "SIGRTMIN+3". */
import os from 'node:os';
import { SkiffError } from '../errors.js';

const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** The signal number, or a one-line error naming the bad value. */
export function parseSignal(text: string): number {
  const s = text.trim().toUpperCase();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= SIGRTMAX) return n;
    throw new SkiffError('EINVAL', `invalid signal: ${text}`);
  }
  const name = s.startsWith('SIG') ? s : `SIG${s}`;
  const known = (os.constants.signals as Record<string, number>)[name];
  if (known !== undefined) return known;
  const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (rt) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const n = base + (rt[2] === '-' ? -1 : 1) * Number(rt[3] ?? 0);
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw new SkiffError('EINVAL', `invalid signal: ${text}`);
}
