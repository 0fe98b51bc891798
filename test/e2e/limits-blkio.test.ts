/**
 * Block I/O throttling per device (issue 15): --device-read-bps/--device-write-bps (sizes) and
 * --device-read-iops/--device-write-iops, read back from the container's own cgroup files (v1
 * blkio.throttle.*_device on a hybrid host, else v2 io.max), shown in inspect with Docker's names,
 * and Docker's words for bad values (nothing created). Rootless: the io controller is not delegated
 * here, so each limit is refused with one WARNING line, as the other cgroup limits are.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { blockDevice, READ_THROTTLE } from '../helpers/devices.js';
import { isRootless, skiff, storeWithImage, type TempStore } from '../helpers/fixtures.js';

describe('block I/O throttling per device', () => {
  let store: TempStore;
  let image: string;
  const sk = (args: string[]) => skiff(args, { store });

  before(async () => {
    ({ store, image } = await storeWithImage());
  });
  after(async () => store.cleanup());

  test('each rate is in the container\'s cgroup and in inspect', async (t) => {
    const d = blockDevice();
    if (!d) return t.skip('no block device on this host');
    const r = await sk([
      'run', '--name', 'blk', '--network', 'none', '--device-read-bps', `${d.path}:1mb`, '--device-write-bps', `${d.path}:2m`,
      '--device-read-iops', `${d.path}:100`, '--device-write-iops', `${d.path}:200`, image, 'sh', '-c', READ_THROTTLE,
    ]);
    assert.equal(r.code, 0, r.stderr);
    if (isRootless()) {
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.filter((l) => /^WARNING: .*(BPS|IOPS) Block I\/O (read|write) limit/.test(l)).length, 4, r.stderr);
      assert.ok(lines.every((l) => l.startsWith('WARNING: ')), r.stderr);
    } else {
      assert.equal(r.stderr, '');
      const out = r.stdout.trim().split('\n');
      if (out.length === 4) assert.deepEqual(out, [`${d.dev} 1048576`, `${d.dev} 2097152`, `${d.dev} 100`, `${d.dev} 200`]);
      else assert.deepEqual(out, [`${d.dev} rbps=1048576 wbps=2097152 riops=100 wiops=200`]);
    }
    const hc = (JSON.parse((await sk(['inspect', 'blk'])).stdout) as { HostConfig: Record<string, unknown> }[])[0]!.HostConfig;
    assert.deepEqual(
      [hc.BlkioDeviceReadBps, hc.BlkioDeviceWriteBps, hc.BlkioDeviceReadIOps, hc.BlkioDeviceWriteIOps],
      [[{ Path: d.path, Rate: 1048576 }], [{ Path: d.path, Rate: 2097152 }], [{ Path: d.path, Rate: 100 }], [{ Path: d.path, Rate: 200 }]],
    );
    assert.equal((await sk(['rm', 'blk'])).code, 0);
  });

  test("bad values: Docker's words, exit 125, nothing created", async () => {
    const d = blockDevice()?.path ?? '/dev/sda';
    const cases: [string[], RegExp][] = [
      [['--device-read-bps', 'sda:1mb'], /^Error: invalid argument "sda:1mb" for "--device-read-bps" flag: bad format for device path: sda:1mb$/m],
      [['--device-write-bps', d], new RegExp(`^Error: invalid argument "${d}" for "--device-write-bps" flag: bad format: ${d}$`, 'm')],
      [['--device-read-iops', `${d}:1mb`], /flag: invalid rate for device: .*Number must be a positive integer$/m],
      [['--device-write-bps', `${d}:lots`], /flag: invalid rate for device: .*Unit is optional and can be kb, mb, or gb$/m],
      [['--device-read-bps', '/dev/no-such-disk:1mb'], /^Error: --device-read-bps \/dev\/no-such-disk: no such file or directory$/m],
      [['--device-write-iops', '/dev/null:5'], /^Error: --device-write-iops \/dev\/null: not a block device$/m],
    ];
    for (const [flags, want] of cases) {
      const r = await sk(['run', '--rm', ...flags, image, 'true']);
      assert.equal(r.code, 125, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, want);
      assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
    }
    assert.equal((await sk(['ps', '-aq'])).stdout, '');
  });
});
