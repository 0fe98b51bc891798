/** /proc/<pid>/mountinfo as a container sees it, parsed (proc(5)). */

export interface MountInfo {
  /** where it is mounted, as the container sees it */
  point: string;
  /** the root of the mount inside its filesystem ("/" for a whole filesystem, "/null" for a bound file) */
  root: string;
  /** per-mount options: rw|ro, nosuid, nodev, noexec, relatime, ... */
  options: string[];
  fstype: string;
  source: string;
  /** per-superblock options: rw|ro, size=..., mode=... */
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseMountinfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0) throw new Error(`not a mountinfo line: ${line}`);
    out.push({
      point: unescape(f[4]!),
      root: unescape(f[3]!),
      options: f[5]!.split(','),
      fstype: f[sep + 1]!,
      source: unescape(f[sep + 2]!),
      superOptions: (f[sep + 3] ?? '').split(','),
    });
  }
  return out;
}

/** The mount at point (the last one: a later mount covers an earlier one there). */
export function mountAt(mounts: MountInfo[], point: string): MountInfo | undefined {
  return mounts.filter((m) => m.point === point).pop();
}
