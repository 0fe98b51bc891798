/** Disk usage of a tree (system df, ps --size, prunes' reclaimed space). */
import fs from 'node:fs';
import path from 'node:path';

/** Bytes under a directory (files' sizes; links not followed). */
export function treeSize(dir: string): number {
  let total = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) {
        try {
          total += fs.lstatSync(p).size;
        } catch {
          /* gone meanwhile */
        }
      }
    }
  }
  return total;
}
