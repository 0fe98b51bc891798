/** `volume create --opt` (the local driver's keys and rules) and `volume ls/prune --filter` parsing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SkiffError } from '../../src/errors.js';
import { parseVolumeFilters, parseVolumeOptions, volumeSource, type VolumeRecord } from '../../src/volume/volumes.js';

const fails = (fn: () => unknown, msg: RegExp): void => assert.throws(fn, (e: unknown) => e instanceof SkiffError && msg.test(e.message));

test('--opt: type=tmpfs (o=, size=), type=none with o=bind and an absolute device; anything else refused', () => {
  assert.deepEqual(parseVolumeOptions([]), {});
  assert.deepEqual(parseVolumeOptions(['type=tmpfs', 'device=tmpfs', 'o=size=1m,uid=1000']), { type: 'tmpfs', device: 'tmpfs', o: 'size=1m,uid=1000' });
  assert.deepEqual(parseVolumeOptions(['type=tmpfs', 'size=64m']), { type: 'tmpfs', size: '64m' });
  assert.deepEqual(parseVolumeOptions(['type=none', 'o=bind', 'device=/srv/x']), { type: 'none', o: 'bind', device: '/srv/x' });
  fails(() => parseVolumeOptions(['novalue']), /invalid key value pair format in driver options: "novalue"/);
  fails(() => parseVolumeOptions(['=x']), /invalid key value pair format/);
  fails(() => parseVolumeOptions(['foo=1']), /invalid option key: "foo"/);
  fails(() => parseVolumeOptions(['device=/x']), /missing required option: "type"/);
  fails(() => parseVolumeOptions(['type=none', 'device=/x']), /type=none needs o=bind/);
  fails(() => parseVolumeOptions(['type=none', 'o=bind', 'device=rel']), /must be an absolute path/);
  fails(() => parseVolumeOptions(['type=nfs', 'device=:/x']), /type "nfs"/);
  fails(() => parseVolumeOptions(['size=1m']), /"size" is only supported for tmpfs/);
  fails(() => parseVolumeOptions(['type=tmpfs', 'size=lots']), /invalid size: 'lots'/);
  fails(() => parseVolumeOptions(['type=tmpfs', 'o=size=1m,bogus']), /"bogus" is not a tmpfs option/);
});

test('what a container mounts: the data dir, the device of a bind, a tmpfs with o= and size=', () => {
  const v = (Options: Record<string, string> | null): VolumeRecord =>
    ({ Name: 'v', Driver: 'local', Mountpoint: '/s/volumes/v/_data', Labels: null, Options, Scope: 'local', CreatedAt: '' });
  assert.deepEqual(volumeSource(v(null)), { kind: 'bind', path: '/s/volumes/v/_data' });
  assert.deepEqual(volumeSource(v({ type: 'none', o: 'bind', device: '/srv' })), { kind: 'bind', path: '/srv' });
  assert.deepEqual(volumeSource(v({ type: 'tmpfs', o: 'mode=1777', size: '2m' })), { kind: 'tmpfs', options: ['mode=1777', 'size=2m'] });
  assert.deepEqual(volumeSource(v({ type: 'tmpfs', o: 'size=1m', size: '2m' })), { kind: 'tmpfs', options: ['size=1m'] }, 'o= wins');
});

test('filters: keys allowed per command, label and label!, dangling as a boolean', () => {
  const f = parseVolumeFilters(['name=a', 'name=b', 'label=k', 'label=k2=v', 'label!=x', 'dangling=1', 'driver=local'], ['name', 'label', 'label!', 'dangling', 'driver']);
  assert.deepEqual(f, { name: ['a', 'b'], label: [{ key: 'k' }, { key: 'k2', value: 'v' }], labelNot: [{ key: 'x' }], driver: ['local'], dangling: true });
  assert.equal(parseVolumeFilters(['dangling=false'], ['dangling']).dangling, false);
  fails(() => parseVolumeFilters(['name=a'], ['label']), /invalid filter 'name'/);
  fails(() => parseVolumeFilters(['dangling=yes'], ['dangling']), /invalid filter 'dangling=yes'/);
  fails(() => parseVolumeFilters(['x'], ['name']), /bad format of filter/);
});
