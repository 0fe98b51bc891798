/** A directory tree as lines to compare before and after something ran: did anything change there? */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Every path under `dir` (relative, sorted) with its type, mode, owner, size, link target and (files)
 * a hash of its content; `skip` leaves out top-level names (a store inside the tree, say).
 */
export function treeSnapshot(dir: string, skip: string[] = []): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of fs.readdirSync(d).sort()) {
      const p = path.join(d, n);
      const rel = path.relative(dir, p);
      if (d === dir && skip.includes(n)) continue;
      const st = fs.lstatSync(p);
      const what = st.isSymbolicLink()
        ? `-> ${fs.readlinkSync(p)}`
        : st.isFile() ? crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex').slice(0, 16) : '';
      out.push(`${rel} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isDirectory() ? '' : st.size} ${what}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}
