/**
 * untar.ts: an ordinary tar (ADD, a context on stdin) unpacked as Docker does: link targets kept
 * as written (absolute too), entry paths contained (leading `/` dropped, `..` out refused), nothing
 * written through a link, hard links only to earlier entries; errors are one line naming the entry.
 * Archives are written byte by byte (test/helpers/rawtar.ts: writers refuse to make most of them).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { SkiffError } from '../../src/errors.js';
import { untar } from '../../src/builder/untar.js';
import { rawTar } from '../helpers/rawtar.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-untar-'));
after(() => fs.rmSync(base, { recursive: true, force: true }));

async function unpack(b: Buffer, chown = false): Promise<string> {
  const dest = fs.mkdtempSync(path.join(base, 'd-'));
  await untar(Readable.from([b]), dest, { chown, what: 'archive "/t.tar"' });
  return dest;
}

async function refused(b: Buffer, re: RegExp): Promise<void> {
  await assert.rejects(unpack(b), (e: unknown) => {
    assert.ok(e instanceof SkiffError, String(e));
    assert.doesNotMatch(e.message, /\n|TAR_|E[A-Z]{3,}:/);
    assert.match(e.message, re);
    return true;
  });
}

test('link targets are kept as written: absolute, relative, climbing out (resolved later, in the container)', async () => {
  const d = await unpack(rawTar([
    { name: 'etc/', type: '5' },
    { name: 'etc/passwd', type: '2', link: '/etc/shadow' },
    { name: 'up', type: '2', link: '../../../../etc' },
    { name: 'dir/link', type: '2', link: '../dir' },
  ]));
  assert.equal(fs.readlinkSync(path.join(d, 'etc/passwd')), '/etc/shadow');
  assert.equal(fs.readlinkSync(path.join(d, 'up')), '../../../../etc');
  assert.equal(fs.readlinkSync(path.join(d, 'dir/link')), '../dir');
  assert.equal(fs.statSync(path.join(d, 'dir')).mode & 0o777, 0o755); // an implied parent
});

test('entry paths stay inside: a leading / is dropped, a .. inside is fine, a .. out is refused', async () => {
  const d = await unpack(rawTar([{ name: '/abs/f', data: 'a' }, { name: 'x/../y', data: 'b' }, { name: './z', data: 'c' }]));
  assert.deepEqual(fs.readdirSync(d).sort(), ['abs', 'y', 'z']);
  assert.equal(fs.readFileSync(path.join(d, 'abs/f'), 'utf8'), 'a');
  await refused(rawTar([{ name: '../x', data: 'x' }]), /^archive "\/t.tar": entry "\.\.\/x" is outside of the destination/);
  await refused(rawTar([{ name: 'a/../../x', data: 'x' }]), /outside of the destination/);
  assert.equal(fs.existsSync(path.join(base, 'x')), false);
});

test('nothing is written through a link the archive made; hard links only to earlier entries', async () => {
  const outside = fs.mkdtempSync(path.join(base, 'outside-'));
  await refused(rawTar([{ name: 'l', type: '2', link: outside }, { name: 'l/pwned', data: 'x' }]), /entry "l\/pwned" would be written through "l", which is a symbolic link/);
  await refused(rawTar([{ name: 'f', data: 'x' }, { name: 'f/g', data: 'x' }]), /through "f", which is not a directory/);
  assert.deepEqual(fs.readdirSync(outside), []);
  await refused(rawTar([{ name: 'h', type: '1', link: '../../etc/passwd' }]), /links to a file outside of the destination/);
  await refused(rawTar([{ name: 'h', type: '1', link: 'etc/passwd' }]), /links to "etc\/passwd", which the archive did not make/);
  await refused(rawTar([{ name: 'l', type: '2', link: '/etc' }, { name: 'h', type: '1', link: 'l/passwd' }]), /through "l", which is a symbolic link/);
  const d = await unpack(rawTar([{ name: 'a', data: 'same' }, { name: 'b', type: '1', link: 'a' }, { name: '/c', type: '1', link: '/a' }]));
  assert.equal(fs.statSync(path.join(d, 'a')).ino, fs.statSync(path.join(d, 'b')).ino);
  assert.equal(fs.statSync(path.join(d, 'a')).ino, fs.statSync(path.join(d, 'c')).ino);
  assert.equal(fs.statSync(path.join(d, 'a')).nlink, 3);
});

test('a later entry replaces an earlier one; modes and times are the archive\'s, directories last', async () => {
  const d = await unpack(rawTar([
    { name: 'x', data: 'first' },
    { name: 'x', type: '2', link: 'target' },
    { name: 'ro/', type: '5', mode: 0o555, mtime: 1_200_000_000 },
    { name: 'ro/f', data: 'in a read-only dir', mode: 0o4755, mtime: 1_100_000_000 },
    { name: 'empty', data: '', mode: 0o600 },
  ]));
  assert.equal(fs.readlinkSync(path.join(d, 'x')), 'target');
  const ro = fs.statSync(path.join(d, 'ro'));
  assert.equal(ro.mode & 0o7777, 0o555);
  assert.equal(ro.mtimeMs, 1_200_000_000_000);
  const f = fs.statSync(path.join(d, 'ro/f'));
  assert.equal(f.mode & 0o7777, 0o4755);
  assert.equal(f.mtimeMs, 1_100_000_000_000);
  assert.equal(fs.statSync(path.join(d, 'empty')).mode & 0o7777, 0o600);
  fs.chmodSync(path.join(d, 'ro'), 0o755);
});

test('gzip input; a broken archive, a too long path: one line in words', async () => {
  const d = await unpack(zlib.gzipSync(rawTar([{ name: 'g', data: 'zipped' }])));
  assert.equal(fs.readFileSync(path.join(d, 'g'), 'utf8'), 'zipped');
  const broken = rawTar([{ name: 'f', data: 'x'.repeat(600) }]).subarray(0, 700);
  await refused(broken, /^cannot read archive "\/t.tar" as a tar archive|^cannot unpack archive "\/t.tar"/);
  await refused(rawTar([{ name: 'a/'.repeat(2100) + 'f', data: 'x' }]), /has a path longer than 4095 bytes \(PATH_MAX\)$/);
});
