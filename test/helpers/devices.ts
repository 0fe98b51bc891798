/** Devices of the test host. */
import fs from 'node:fs';

/** A block device of this host (/dev/NAME) and its MAJ:MIN, preferring a real disk over loop and zram. */
export function blockDevice(): { path: string; dev: string } | undefined {
  const names = fs.readdirSync('/sys/block').sort((a, b) => Number(/^(loop|zram|ram)/.test(a)) - Number(/^(loop|zram|ram)/.test(b)));
  for (const n of names) {
    try {
      if (fs.statSync(`/dev/${n}`).isBlockDevice()) return { path: `/dev/${n}`, dev: fs.readFileSync(`/sys/block/${n}/dev`, 'utf8').trim() };
    } catch {
      /* not in /dev */
    }
  }
  return undefined;
}

/** The container's throttle rates: v1 blkio files on a hybrid host, else v2 io.max. */
export const READ_THROTTLE = [
  ['blkio.throttle.read_bps_device', 'blkio.throttle.write_bps_device', 'blkio.throttle.read_iops_device', 'blkio.throttle.write_iops_device']
    .map((f) => `cat /sys/fs/cgroup/blkio/${f} 2>/dev/null`).join('; '),
  'cat /sys/fs/cgroup/unified/io.max 2>/dev/null || cat /sys/fs/cgroup/io.max 2>/dev/null',
  'true',
].join('; ');
