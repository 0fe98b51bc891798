/**
 * Layer extraction (src/store/extract.ts over addon/src/tar_extract.cc) and packing (src/store/tarball.ts): tar features as GNU
 * tar writes them, overlay whiteouts, refusal of entries escaping the layer, corrupt archives, the
 * extract ∘ pack round trip, and a real overlay mount of extracted layers (root only).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { execFileSync, spawnSync } from 'node:child_process';
import { closed, extractLayer, isCorruptInput, LayerSink, type ExtractOptions } from '../../src/store/extract.js';
import { packDirectory } from '../../src/store/tarball.js';
import { native } from '../../src/native.js';
import { gnuLong, pax, tarArchive, tarEntry } from '../adversarial/gen.js';

const asRoot = process.getuid!() === 0;
const opts: ExtractOptions = { overlayXattrPrefix: asRoot ? 'trusted.overlay.' : 'user.overlay.', chown: asRoot };
const rootOnly = { skip: !asRoot && 'needs root (owners, trusted.* xattrs, device nodes)' };
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

// ------------------------------------------------------------------------------------ tar writing

const archive = tarArchive;
const tarOf = (...entries: Buffer[]): Readable => Readable.from([archive(...entries)]);

/** Feed a buffer in chunks of the given sizes (cycled), to exercise headers split across chunks. */
function pieces(buf: Buffer, sizes: number[]): Buffer[] {
  const parts: Buffer[] = [];
  for (let i = 0, k = 0; i < buf.length; k++) {
    const n = sizes[k % sizes.length]!;
    parts.push(buf.subarray(i, i + n));
    i += n;
  }
  return parts;
}
const chunked = (buf: Buffer, sizes: number[]): Readable => Readable.from(pieces(buf, sizes));

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

// ------------------------------------------------------------------------------------ tree helpers

function tmp(): { dir: string; target: string; canary: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-extract-'));
  const target = path.join(dir, 'a', 'b', 'layer');
  fs.mkdirSync(target, { recursive: true });
  const canary = path.join(dir, 'canary');
  fs.mkdirSync(canary);
  fs.writeFileSync(path.join(canary, 'file'), 'precious');
  return { dir, target, canary };
}

/**
 * Everything about a tree that a layer carries: type, mode, owner, size, mtime, link target,
 * device numbers, xattrs (hex), and which entries share an inode. Names are raw bytes (hex when
 * not printable).
 */
function snapshot(root: string, o: { times?: boolean } = {}): string[] {
  const addon = native();
  const out: string[] = [];
  const inodes = new Map<string, string>();
  const walk = (abs: Buffer, rel: string): void => {
    for (const n of (fs.readdirSync(abs, { encoding: 'buffer' }) as Buffer[]).sort(Buffer.compare)) {
      const p = Buffer.concat([abs, Buffer.from('/'), n]);
      const name = /^[\x20-\x7e]*$/.test(n.toString('latin1')) ? n.toString('latin1') : `<${n.toString('hex')}>`;
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(p);
      const kind = st.isDirectory() ? 'd' : st.isFile() ? 'f' : st.isSymbolicLink() ? 'l' : st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : st.isFIFO() ? 'p' : '?';
      const strPath = p.toString('utf8');
      const xattrs = Buffer.from(strPath).equals(p)
        ? addon.llistxattr(strPath).sort().map((k) => `${k}=${addon.lgetxattr(strPath, k)!.toString('hex')}`).join(',')
        : '';
      let line = `${r} ${kind} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (kind === 'f') line += ` size=${st.size} sha=${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex').slice(0, 12)}`;
      if (kind === 'l') line += ` -> ${fs.readlinkSync(p, { encoding: 'buffer' }).toString('latin1')}`;
      if (kind === 'c' || kind === 'b') line += ` rdev=${st.rdev}`;
      if (o.times !== false && kind !== 'c') line += ` mtime=${Math.floor(st.mtimeMs / 1000)}`;
      if (xattrs) line += ` xattrs=${xattrs}`;
      if (kind !== 'd' && st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (!inodes.has(key)) inodes.set(key, r);
        line += ` inode-of=${inodes.get(key)}`;
      }
      out.push(line);
      if (kind === 'd') walk(p, r);
    }
  };
  walk(Buffer.from(root), '');
  return out;
}

/** Remove a test directory, also where extracted read-only directories are in the way. */
function cleanup(dir: string): void {
  spawnSync('chmod', ['-R', 'u+rwX', dir]);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Everything under `dir` except the layer target itself (to prove nothing was written outside). */
const outside = (t: { dir: string }): string[] =>
  snapshot(t.dir).filter((l) => !l.startsWith('a/b/layer/') && !l.startsWith('a ') && !l.startsWith('a/b ') && !l.startsWith('a/b/layer '));

/** VFS_CAP_REVISION_2 | effective; permitted = 1 << CAP_NET_BIND_SERVICE (what `setcap cap_net_bind_service+ep` writes). */
const CAP_NET_BIND_SERVICE_V2 = Buffer.from('0100000200040000000000000000000000000000', 'hex');
function setCap(file: string): void {
  if (has('setcap')) execFileSync('setcap', ['cap_net_bind_service+ep', file]);
  else native().lsetxattr(file, 'security.capability', CAP_NET_BIND_SERVICE_V2);
}

/** A source tree with most of what a layer can hold. */
function makeSourceTree(src: string): void {
  fs.mkdirSync(path.join(src, 'd', 'sticky'), { recursive: true });
  fs.mkdirSync(path.join(src, 'd', 'setgid'));
  fs.mkdirSync(path.join(src, 'ro', 'inner'), { recursive: true });
  fs.writeFileSync(path.join(src, 'ro', 'inner', 'f'), 'in a read-only dir');
  fs.writeFileSync(path.join(src, 'd', 'suid'), '#!/bin/sh\n');
  fs.writeFileSync(path.join(src, 'f'), 'hello');
  fs.writeFileSync(path.join(src, 'empty'), '');
  fs.writeFileSync(path.join(src, 'big'), crypto.randomBytes(3 * 1024 * 1024 + 17));
  fs.writeFileSync(path.join(src, 'ro-file'), 'read only');
  fs.linkSync(path.join(src, 'f'), path.join(src, 'hard'));
  fs.linkSync(path.join(src, 'f'), path.join(src, 'd', 'hard2'));
  fs.symlinkSync('/etc/passwd', path.join(src, 'abs'));
  fs.symlinkSync('../f', path.join(src, 'd', 'rel'));
  fs.symlinkSync('nowhere/at/all', path.join(src, 'dangling'));
  const longDir = 'n'.repeat(120);
  fs.mkdirSync(path.join(src, longDir));
  fs.writeFileSync(path.join(src, longDir, 'm'.repeat(150)), 'long');
  // a path over 255 bytes (PAX path / GNU long name)
  let deep = src;
  for (let i = 0; i < 4; i++) {
    deep = path.join(deep, `${i}`.repeat(80));
    fs.mkdirSync(deep);
  }
  fs.writeFileSync(path.join(deep, 'leaf-' + 'x'.repeat(90)), 'deep');
  fs.symlinkSync('t'.repeat(150), path.join(src, 'longlink'));
  fs.writeFileSync(path.join(src, 'unicode-名前-é'), 'utf8');
  fs.writeFileSync(path.join(src, 'xattr-file'), 'x');
  native().lsetxattr(path.join(src, 'xattr-file'), 'user.binary', Buffer.from([0, 1, 10, 0xff, 0x3d, 0x20]));
  fs.writeFileSync(path.join(src, 'cap'), 'capable');
  if (asRoot) {
    fs.chownSync(path.join(src, 'f'), 1000, 1001);
    fs.chownSync(path.join(src, 'd'), 12, 34);
    fs.chownSync(path.join(src, 'd', 'suid'), 0, 0);
    fs.lchownSync(path.join(src, 'abs'), 7, 8);
    fs.chownSync(path.join(src, 'cap'), 100000, 100000);
    native().lsetxattr(path.join(src, 'xattr-file'), 'trusted.something', Buffer.from('t'));
    execFileSync('mknod', [path.join(src, 'null'), 'c', '1', '3']);
  }
  if (asRoot) setCap(path.join(src, 'cap')); // after chown, which clears capabilities
  execFileSync('mkfifo', [path.join(src, 'fifo')]);
  fs.chmodSync(path.join(src, 'd', 'suid'), 0o4755);
  fs.chmodSync(path.join(src, 'd', 'setgid'), 0o2755);
  fs.chmodSync(path.join(src, 'd', 'sticky'), 0o1777);
  fs.chmodSync(path.join(src, 'ro-file'), 0o444);
  fs.chmodSync(path.join(src, 'ro', 'inner'), 0o555);
  fs.chmodSync(path.join(src, 'ro'), 0o500);
  // distinct times everywhere, directories last
  execFileSync('sh', ['-c', `cd "${src}" && find . -depth -exec touch -h -d @1500000000 {} + && touch -h -d @1234567890 abs d/rel && touch -d @1111111111 d ro/inner f`]);
}

/** The system's GNU tar; xattrs need the pax format. */
const gnuTar = (src: string, format: 'pax' | 'gnu'): Buffer =>
  execFileSync('tar', [...(format === 'pax' ? ['--xattrs', '--xattrs-include=*'] : []), `--format=${format}`, '-C', src, '-cf', '-', '.'], { maxBuffer: 1 << 28 });

// ------------------------------------------------------------------------------------ tests

test('GNU tar archives (pax and gnu formats) extract to the same tree: modes, owners, links, long names, xattrs, times', async () => {
  const t = tmp();
  const src = path.join(t.dir, 'src');
  fs.mkdirSync(src);
  makeSourceTree(src);
  const want = snapshot(src);
  for (const format of ['pax', 'gnu'] as const) {
    const target = path.join(t.dir, `out-${format}`);
    fs.mkdirSync(target);
    const res = await extractLayer(Readable.from([gnuTar(src, format)]), target, opts);
    const got = snapshot(target);
    if (format === 'gnu') {
      // the GNU format has no place for xattrs: compare without them
      const strip = (l: string[]): string[] => l.map((x) => x.replace(/ xattrs=.*?( inode-of|$)/, '$1'));
      assert.deepEqual(strip(got), strip(want), format);
    } else assert.deepEqual(got, want, format);
    assert.equal(res.size, 5 + 3 * 1024 * 1024 + 17 + 'in a read-only dir'.length + 10 + 9 + 4 + 4 + 4 + 1 + 7, format);
    const st = (p: string): fs.Stats => fs.lstatSync(path.join(target, p));
    assert.equal(st('d/suid').mode & 0o7777, 0o4755);
    assert.equal(st('d/sticky').mode & 0o7777, 0o1777);
    assert.equal(st('d/setgid').mode & 0o7777, 0o2755);
    assert.equal(st('hard').ino, st('f').ino);
    assert.equal(st('d/hard2').ino, st('f').ino);
    assert.equal(fs.readlinkSync(path.join(target, 'abs')), '/etc/passwd');
    assert.equal(fs.readlinkSync(path.join(target, 'd/rel')), '../f');
    assert.equal(fs.readlinkSync(path.join(target, 'longlink')), 't'.repeat(150));
    if (asRoot) {
      assert.equal(st('f').uid, 1000);
      assert.equal(st('f').gid, 1001);
      assert.equal(st('cap').uid, 100000);
      const n = st('null');
      assert.ok(n.isCharacterDevice() && n.rdev === fs.statSync('/dev/null').rdev);
    }
  }
  // security.capability: the exact bytes setcap wrote, also as getfattr prints them
  const target = path.join(t.dir, 'out-pax');
  assert.deepEqual(native().lgetxattr(path.join(target, 'xattr-file'), 'user.binary'), Buffer.from([0, 1, 10, 0xff, 0x3d, 0x20]));
  if (!asRoot) return void cleanup(t.dir);
  const capWant = native().lgetxattr(path.join(src, 'cap'), 'security.capability');
  assert.ok(capWant && capWant.length >= 20);
  assert.deepEqual(native().lgetxattr(path.join(target, 'cap'), 'security.capability'), capWant);
  if (has('getfattr')) {
    const hex = (p: string): string => execFileSync('getfattr', ['-n', 'security.capability', '-e', 'hex', '--absolute-names', p]).toString().split('\n')[1]!;
    assert.equal(hex(path.join(target, 'cap')), hex(path.join(src, 'cap')));
  }
  if (has('getcap')) assert.match(execFileSync('getcap', [path.join(target, 'cap')]).toString(), /cap_net_bind_service=ep/);
  cleanup(t.dir);
});

/** GNU tar's pax archive of makeSourceTree's tree (made under `dir`), and the snapshot it extracts to. */
function sourceTarball(dir: string): { tarball: Buffer; want: string[] } {
  const src = path.join(dir, 'src');
  fs.mkdirSync(src);
  makeSourceTree(src);
  return { tarball: gnuTar(src, 'pax'), want: snapshot(src) };
}

test('headers and bodies split across arbitrary chunk boundaries extract the same', async () => {
  const t = tmp();
  const { tarball, want } = sourceTarball(t.dir);
  for (const sizes of [[1], [511, 513, 7], [4096 + 3], [100_000]]) {
    const target = path.join(t.dir, `out-${sizes.join('-')}`);
    fs.mkdirSync(target);
    // single bytes for the first 64 KiB only (to keep the test fast), then bigger pieces
    const src1 = sizes[0] === 1 ? Readable.from([...pieces(tarball.subarray(0, 65536), [1]), tarball.subarray(65536)]) : chunked(tarball, sizes);
    await extractLayer(src1, target, opts);
    assert.deepEqual(snapshot(target), want, `chunks ${sizes}`);
  }
  cleanup(t.dir);
});

test('the gzip sink (pull): inflates, hashes the tar and extracts it natively, at any chunk size; corrupt gzip is told apart', async () => {
  const t = tmp();
  const { tarball, want } = sourceTarball(t.dir);
  const digest = `sha256:${crypto.createHash('sha256').update(tarball).digest('hex')}`;
  // two gzip members in a row, as pigz and concatenated blobs have them
  const half = tarball.length >> 1;
  const gz = Buffer.concat([zlib.gzipSync(tarball.subarray(0, half)), zlib.gzipSync(tarball.subarray(half))]);
  for (const sizes of [[1, 2, 3], [4093], [1 << 20]]) {
    const target = path.join(t.dir, `gz-${sizes.join('-')}`);
    fs.mkdirSync(target);
    const sink = new LayerSink(target, opts, { gzip: true, digest: 'sha256' });
    await pipeline(Readable.from(pieces(gz, sizes)), sink);
    assert.equal(sink.result!.digest, digest, `chunks ${sizes}`);
    assert.deepEqual(snapshot(target), want, `chunks ${sizes}`);
  }
  const bad = Buffer.from(gz);
  bad[20] ^= 0xff;
  const target = path.join(t.dir, 'bad');
  fs.mkdirSync(target);
  const sink = new LayerSink(target, opts, { gzip: true });
  await assert.rejects(pipeline(Readable.from([bad]), sink), (e: Error) => isCorruptInput(e) && e.message.length > 0);
  const truncated = path.join(t.dir, 'truncated');
  fs.mkdirSync(truncated);
  await assert.rejects(pipeline(Readable.from([gz.subarray(0, gz.length - 4)]), new LayerSink(truncated, opts, { gzip: true })), (e: Error) => isCorruptInput(e) && /unexpected end of file/.test(e.message));
  cleanup(t.dir);
});

test('an aborted sink writes nothing once it has closed; PAX fractional and negative times are kept to the nanosecond', async () => {
  const t = tmp();
  const many: Buffer[] = [];
  for (let i = 0; i < 3000; i++) many.push(tarEntry(`d${i % 30}/f${i}`, { body: 'x'.repeat(700) }));
  const big = archive(...many);
  const sink = new LayerSink(t.target, opts);
  const quarter = big.length >> 2;
  await new Promise<void>((resolve, reject) => sink.write(big.subarray(0, quarter), (e) => (e ? reject(e) : resolve())));
  assert.ok(snapshot(t.target).length > 30, 'the first quarter is written');
  sink.write(big.subarray(quarter)); // its job is queued or running when the sink is destroyed
  sink.destroy();
  await closed(sink);
  const after = snapshot(t.target).length;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(snapshot(t.target).length, after, 'the tree changed after close');
  assert.ok(after < 3000 + 30, 'the extraction stopped');

  const times = path.join(t.dir, 'times');
  fs.mkdirSync(times);
  await extractLayer(tarOf(pax([['mtime', '1600000000.123456789']]), tarEntry('frac'), pax([['mtime', '-1.5']]), tarEntry('neg')), times, opts);
  assert.equal(fs.statSync(path.join(times, 'frac'), { bigint: true }).mtimeNs, 1600000000123456789n);
  assert.equal(fs.statSync(path.join(times, 'neg'), { bigint: true }).mtimeNs, -1500000000n);
  cleanup(t.dir);
});

test('GNU long names, PAX paths over 255 bytes, PAX/global headers, base-256 numbers, binary xattrs', async () => {
  const t = tmp();
  const long = 'L'.repeat(130) + '/' + 'n'.repeat(140);
  const longer = Array.from({ length: 5 }, (_, i) => String(i).repeat(90)).join('/');
  const binary = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x0a, 0x3d, 0xff, 0x80]);
  const entries = [
    pax([['mtime', '1400000000.5']], 'g'), // default for later entries
    gnuLong('L', long),
    tarEntry('ignored-short-name', { body: 'gnu long' }),
    pax([['path', longer], ['mtime', '1300000000.25'], ['SCHILY.xattr.user.bin', binary]]),
    tarEntry('also-ignored', { body: 'pax path' }),
    gnuLong('K', 'k'.repeat(200)),
    tarEntry('sym', { type: '2', link: 'short' }),
    tarEntry('b256', { body: 'x', uid: 3_000_000, base256Uid: true, mtime: 1_500_000_000 }),
    pax([['uid', '123456'], ['gid', '654321'], ['mtime', '']]), // '' removes the global default
    tarEntry('paxids', { body: 'y', mtime: 1_200_000_000 }),
    pax([['LIBARCHIVE.xattr.user.la', Buffer.from('bGliYXJjaGl2ZQ==')]]),
    tarEntry('la', { body: 'z' }),
    tarEntry('v7dir/', { type: '0', mode: 0o711 }),
    pax([['mtime', '-86400.5']]),
    tarEntry('before-1970', { type: '2', link: 'x' }),
  ];
  const res = await extractLayer(tarOf(...entries), t.target, opts);
  assert.equal(res.size, 8 + 8 + 1 + 1 + 1);
  assert.equal(fs.readFileSync(path.join(t.target, long), 'utf8'), 'gnu long');
  const lp = path.join(t.target, longer);
  assert.equal(fs.readFileSync(lp, 'utf8'), 'pax path');
  assert.equal(fs.statSync(lp).mtimeMs, 1300000000250);
  assert.deepEqual(native().lgetxattr(lp, 'user.bin'), binary);
  assert.equal(fs.readlinkSync(path.join(t.target, 'sym')), 'k'.repeat(200));
  assert.equal(fs.lstatSync(path.join(t.target, 'sym')).mtimeMs, 1400000000500);
  assert.equal(fs.statSync(path.join(t.target, 'paxids')).mtimeMs, 1200000000000);
  assert.equal(fs.readFileSync(path.join(t.target, 'la'), 'utf8'), 'z');
  assert.deepEqual(native().lgetxattr(path.join(t.target, 'la'), 'user.la'), Buffer.from('libarchive'));
  assert.equal(fs.lstatSync(path.join(t.target, 'before-1970')).mtimeMs, -86400500);
  assert.ok(fs.statSync(path.join(t.target, 'v7dir')).isDirectory());
  assert.equal(fs.statSync(path.join(t.target, 'v7dir')).mode & 0o7777, 0o711);
  if (asRoot) {
    assert.equal(fs.statSync(path.join(t.target, 'b256')).uid, 3_000_000);
    assert.equal(fs.statSync(path.join(t.target, 'paxids')).uid, 123456);
    assert.equal(fs.statSync(path.join(t.target, 'paxids')).gid, 654321);
  }
  cleanup(t.dir);
});

test('whiteouts become 0:0 character devices, opaque markers the overlay xattr, aufs metadata is skipped', rootOnly, async () => {
  for (const prefix of ['trusted.overlay.', 'user.overlay.'] as const) {
    const t = tmp();
    await extractLayer(tarOf(
      tarEntry('dir/', { type: '5', mode: 0o755 }),
      tarEntry('dir/was-here', { body: 'replaced by the whiteout below' }),
      tarEntry('dir/.wh.was-here'),
      tarEntry('dir/.wh.gone'),
      tarEntry('.wh.top'),
      tarEntry('opq/.wh..wh..opq'), // the directory itself comes later (or never)
      tarEntry('opq/', { type: '5', mode: 0o750 }),
      tarEntry('opq/new', { body: 'n' }),
      tarEntry('.wh..wh.plnk/', { type: '5' }),
      tarEntry('.wh..wh.plnk/123.456', { body: 'aufs' }),
      tarEntry('.wh..wh.aufs'),
      tarEntry('.wh..wh.orph/', { type: '5' }),
      tarEntry('.wh..wh.orph/x', { body: 'orphan' }),
      tarEntry('dir/linked', { type: '1', link: '.wh..wh.plnk/123.456' }), // aufs-era hard link
    ), t.target, { ...opts, overlayXattrPrefix: prefix });
    for (const w of ['dir/gone', 'dir/was-here', 'top']) {
      const p = path.join(t.target, w);
      const st = fs.lstatSync(p);
      assert.ok(st.isCharacterDevice() && st.rdev === 0, w);
      assert.equal(execFileSync('stat', ['-c', '%t:%T %F', p]).toString().trim(), '0:0 character special file');
      assert.equal(st.mtimeMs, 1_600_000_000_000, `${w}: the entry's mtime (a re-packed diff is the same tar)`);
    }
    assert.equal(fs.readFileSync(path.join(t.target, 'dir', 'linked'), 'utf8'), 'aufs');
    assert.equal(native().lgetxattr(path.join(t.target, 'opq'), `${prefix}opaque`)?.toString(), 'y');
    assert.equal(fs.statSync(path.join(t.target, 'opq')).mode & 0o777, 0o750);
    assert.equal(native().lgetxattr(path.join(t.target, 'dir'), `${prefix}opaque`), null);
    assert.deepEqual(fs.readdirSync(t.target).sort(), ['dir', 'opq', 'top']);
    if (has('getfattr') && prefix === 'trusted.overlay.') {
      assert.match(execFileSync('getfattr', ['-n', 'trusted.overlay.opaque', '--absolute-names', path.join(t.target, 'opq')]).toString(), /trusted\.overlay\.opaque="y"/);
    }
    cleanup(t.dir);
  }
});

test('entries that replace others: file ↔ directory ↔ symlink, as tar does', async () => {
  const t = tmp();
  await extractLayer(tarOf(
    tarEntry('x', { body: 'file first' }),
    tarEntry('x/', { type: '5' }), // a directory replaces the file
    tarEntry('x/child', { body: 'c' }),
    tarEntry('y/', { type: '5' }),
    tarEntry('y/deep/', { type: '5' }),
    tarEntry('y/deep/f', { body: 'f' }),
    tarEntry('y', { type: '2', link: '/etc' }), // a symlink replaces the whole directory
    tarEntry('z', { type: '2', link: 'x' }),
    tarEntry('z/', { type: '5', mode: 0o700 }), // a real directory replaces the symlink
    tarEntry('z/inside', { body: 'i' }),
    tarEntry('w', { body: 'one' }),
    tarEntry('w', { body: 'two' }),
  ), t.target, opts);
  assert.equal(fs.readFileSync(path.join(t.target, 'x', 'child'), 'utf8'), 'c');
  assert.equal(fs.readlinkSync(path.join(t.target, 'y')), '/etc');
  assert.ok(fs.lstatSync(path.join(t.target, 'z')).isDirectory());
  assert.equal(fs.readFileSync(path.join(t.target, 'z', 'inside'), 'utf8'), 'i');
  assert.equal(fs.readFileSync(path.join(t.target, 'w'), 'utf8'), 'two');
  cleanup(t.dir);
});

test('owners: our own ids are not chowned again, other ids are; a repeated directory takes the later owner; a setgid target still gets the entry group', rootOnly, async () => {
  const t = tmp();
  await extractLayer(tarOf(
    tarEntry('mine', { body: 'a' }),
    tarEntry('theirs', { body: 'b', uid: 1000, gid: 1001 }),
    tarEntry('link', { type: '2', link: 'theirs', uid: 1002, gid: 1003 }),
    tarEntry('d/', { type: '5', uid: 1000, gid: 1000 }),
    tarEntry('d/f', { body: 'f' }),
    tarEntry('d/', { type: '5' }), // the same directory again, owned by root: the later entry wins
  ), t.target, opts);
  const owner = (p: string): string => {
    const st = fs.lstatSync(path.join(t.target, p));
    return `${st.uid}:${st.gid}`;
  };
  assert.deepEqual(['mine', 'theirs', 'link', 'd', 'd/f'].map(owner), ['0:0', '1000:1001', '1002:1003', '0:0', '0:0']);
  cleanup(t.dir);
  // a target in a setgid directory of group 50: new inodes would get group 50, so root's entries are chowned too
  const u = tmp();
  fs.chownSync(u.target, 0, 50);
  fs.chmodSync(u.target, 0o2755);
  await extractLayer(tarOf(tarEntry('f', { body: 'x' }), tarEntry('sub/', { type: '5' })), u.target, opts);
  assert.equal(fs.lstatSync(path.join(u.target, 'f')).gid, 0);
  assert.equal(fs.lstatSync(path.join(u.target, 'sub')).gid, 0);
  cleanup(u.dir);
});

test('entries escaping the layer are refused and nothing is written outside it', async () => {
  const attacks: [string, (canary: string) => Buffer[], RegExp?][] = [
    ['dot-dot', () => [tarEntry('../evil', { body: 'x' })]],
    ['deep dot-dot', () => [tarEntry('../../../canary/file', { body: 'x' })]],
    ['nested dot-dot', () => [tarEntry('a/../../evil', { body: 'x' })]],
    ['absolute with dot-dot', () => [tarEntry('/abs/../../evil', { body: 'x' })]],
    ['dot-slash dot-dot', () => [tarEntry('./../evil', { body: 'x' })]],
    ['directory dot-dot', () => [tarEntry('../evil-dir/', { type: '5' })]],
    ['symlink dot-dot', () => [tarEntry('../evil-link', { type: '2', link: '/etc/passwd' })]],
    ['PAX path', () => [pax([['path', '../../evil']]), tarEntry('harmless', { body: 'x' })]],
    ['GNU long name', () => [gnuLong('L', 'ok/../../evil'), tarEntry('harmless', { body: 'x' })]],
    ['through a symlink to the canary', (c) => [tarEntry('s', { type: '2', link: c }), tarEntry('s/file', { body: 'pwned' })]],
    ['through a relative symlink', () => [tarEntry('s', { type: '2', link: '../../../canary' }), tarEntry('s/file', { body: 'pwned' })]],
    ['through a symlink to ..', () => [tarEntry('s', { type: '2', link: '..' }), tarEntry('s/x', { body: 'x' })]],
    ['through a nested symlink', (c) => [tarEntry('d/', { type: '5' }), tarEntry('d/s', { type: '2', link: c }), tarEntry('d/s/sub/file', { body: 'x' })]],
    ['directory through a symlink', (c) => [tarEntry('s', { type: '2', link: c }), tarEntry('s/newdir/', { type: '5' })]],
    ['symlink through a symlink', (c) => [tarEntry('s', { type: '2', link: c }), tarEntry('s/link', { type: '2', link: '/' })]],
    ['whiteout through a symlink', (c) => [tarEntry('s', { type: '2', link: c }), tarEntry('s/.wh.file')]],
    ['opaque marker through a symlink', (c) => [tarEntry('s', { type: '2', link: c }), tarEntry('s/.wh..wh..opq')]],
    ['whiteout named ..', () => [tarEntry('d/', { type: '5' }), tarEntry('d/.wh...')], /invalid whiteout/],
    ['hard link out', () => [tarEntry('h', { type: '1', link: '../../../canary/file' })]],
    ['hard link to /etc/passwd', () => [tarEntry('h', { type: '1', link: '../../etc/passwd' })]],
    ['hard link absolute', () => [tarEntry('h', { type: '1', link: '/etc/passwd' })], /not in the layer/],
    ['hard link through a symlink', (c) => [tarEntry('s', { type: '2', link: c }), tarEntry('h', { type: '1', link: 's/file' })]],
    ['hard link through a symlink to /', () => [tarEntry('s', { type: '2', link: '/' }), tarEntry('h', { type: '1', link: 's/etc/passwd' })]],
    ['hard link to a symlink then write through it', (c) => [tarEntry('s', { type: '2', link: c }), tarEntry('h', { type: '1', link: 's' }), tarEntry('h/file', { body: 'x' })]],
  ];
  for (const [name, make, message] of attacks) {
    const t = tmp();
    const before = outside(t);
    await assert.rejects(extractLayer(tarOf(...make(t.canary)), t.target, opts), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'EINVAL', `${name}: ${e.message}`);
      assert.match(e.message, message ?? /escapes the layer root/, name);
      return true;
    }, name);
    assert.deepEqual(outside(t), before, name);
    assert.equal(fs.readFileSync(path.join(t.canary, 'file'), 'utf8'), 'precious', name);
    cleanup(t.dir);
  }
  // the literal classic: `s -> /` then `s/etc/passwd` (run last, after the canary variants proved safe)
  const t = tmp();
  const passwd = fs.readFileSync('/etc/passwd');
  await assert.rejects(extractLayer(tarOf(tarEntry('s', { type: '2', link: '/' }), tarEntry('s/etc/passwd', { body: 'root::0:0::/:/bin/sh\n' })), t.target, opts), /escapes the layer root/);
  assert.deepEqual(fs.readFileSync('/etc/passwd'), passwd);
  cleanup(t.dir);
});

test('absolute and relative symlink targets are kept verbatim (resolved in the container later)', async () => {
  const t = tmp();
  await extractLayer(tarOf(
    tarEntry('etc-link', { type: '2', link: '/etc' }),
    tarEntry('up', { type: '2', link: '../../../../..' }),
    tarEntry('d/', { type: '5' }),
    tarEntry('d/hard-to-sym', { type: '1', link: 'etc-link' }), // a hard link to a symlink is the symlink
  ), t.target, opts);
  assert.equal(fs.readlinkSync(path.join(t.target, 'etc-link')), '/etc');
  assert.equal(fs.readlinkSync(path.join(t.target, 'up')), '../../../../..');
  assert.equal(fs.readlinkSync(path.join(t.target, 'd', 'hard-to-sym')), '/etc');
  cleanup(t.dir);
});

test('corrupt, truncated or unsupported archives fail with a clear error', async () => {
  const t = tmp();
  const run = (s: Readable): Promise<unknown> => {
    fs.rmSync(t.target, { recursive: true, force: true });
    fs.mkdirSync(t.target);
    return extractLayer(s, t.target, opts);
  };
  const bad = tarEntry('f', { body: 'x' });
  bad[150] = 0x37; // break the checksum
  await assert.rejects(run(tarOf(bad)), (e: Error & { code?: string }) => e.code === 'EINVAL' && /invalid tar header at offset 0: checksum mismatch/.test(e.message));
  const second = tarEntry('g', { body: 'y' });
  second[0] = 0x68;
  await assert.rejects(run(tarOf(tarEntry('f', { body: 'x' }), second)), /invalid tar header at offset 1024/);
  const entry = tarEntry('big', { body: 'y'.repeat(2000) });
  await assert.rejects(run(Readable.from([entry.subarray(0, 1024)])), /truncated at offset 1024/);
  await assert.rejects(run(Readable.from([entry.subarray(0, 300)])), /truncated/);
  await assert.rejects(run(Readable.from([tarEntry('f', { body: 'x' }), gnuLong('L', 'name')])), /truncated/);
  await assert.rejects(run(tarOf(tarEntry('PaxHeaders/x', { type: 'x', body: '99 path=short\n' }), tarEntry('f'))), /malformed PAX/);
  await assert.rejects(run(tarOf(tarEntry('sparse', { type: 'S', body: 'x' }))), /sparse files are not supported/);
  // an owner beyond what chown(2) takes (2^32 - 1 would mean "leave unchanged")
  await assert.rejects(run(tarOf(tarEntry('huge-uid', { base256Uid: true, uid: 2 ** 40 }))), /invalid tar header at offset 0: bad numeric field/);
  await assert.rejects(run(tarOf(pax([['GNU.sparse.major', '1']]), tarEntry('sparse', { body: 'x' }))), /sparse files are not supported/);
  // an empty stream and a bare end-of-archive marker are empty layers
  assert.deepEqual(await run(Readable.from([])), { size: 0, skippedDevices: 0 });
  assert.deepEqual(await run(Readable.from([Buffer.alloc(1024)])), { size: 0, skippedDevices: 0 });
  // padding after the end-of-archive marker is read (a digest over the stream must see it)
  let drained = false;
  await run(Readable.from((async function* () {
    yield archive(tarEntry('f', { body: 'x' }));
    yield Buffer.alloc(10240);
    drained = true;
  })()));
  assert.ok(drained);
  cleanup(t.dir);
});

test('device nodes and fifos are created with their numbers and modes', rootOnly, async () => {
  const t = tmp();
  const res = await extractLayer(tarOf(
    tarEntry('dev/', { type: '5' }),
    tarEntry('dev/null', { type: '3', devmajor: 1, devminor: 3, mode: 0o666 }),
    tarEntry('dev/loop9', { type: '4', devmajor: 7, devminor: 9, mode: 0o660, gid: 6 }),
    tarEntry('dev/fifo', { type: '6', mode: 0o620 }),
  ), t.target, opts);
  assert.equal(res.skippedDevices, 0);
  assert.equal(execFileSync('stat', ['-c', '%F %t:%T %a %g', path.join(t.target, 'dev/null')]).toString().trim(), 'character special file 1:3 666 0');
  assert.equal(execFileSync('stat', ['-c', '%F %t:%T %a %g', path.join(t.target, 'dev/loop9')]).toString().trim(), 'block special file 7:9 660 6');
  assert.equal(execFileSync('stat', ['-c', '%F %a', path.join(t.target, 'dev/fifo')]).toString().trim(), 'fifo 620');
  cleanup(t.dir);
});

test('non-UTF-8 names survive extraction and packing byte for byte', async () => {
  const t = tmp();
  const raw = Buffer.from([0x6e, 0xff, 0xfe, 0x2d, 0xe9]); // "n\xff\xfe-\xe9": not UTF-8
  await extractLayer(tarOf(
    tarEntry(raw, { body: 'bytes' }),
    tarEntry(Buffer.concat([Buffer.from('d'), raw, Buffer.from('/')]), { type: '5' }),
    tarEntry(Buffer.concat([Buffer.from('d'), raw, Buffer.from('/.wh.'), raw])),
    tarEntry(Buffer.concat([Buffer.from('d'), raw, Buffer.from('/.wh..wh..opq')])),
  ), t.target, opts);
  const names = fs.readdirSync(t.target, { encoding: 'buffer' }) as Buffer[];
  assert.ok(names.some((n) => n.equals(raw)));
  const dir = Buffer.concat([Buffer.from(t.target + '/d'), raw]);
  if (asRoot) {
    const wh = fs.lstatSync(Buffer.concat([dir, Buffer.from('/'), raw]));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0);
  }
  const again = path.join(t.dir, 'again');
  fs.mkdirSync(again);
  await extractLayer(packDirectory(t.target, { overlayXattrPrefix: opts.overlayXattrPrefix }), again, opts);
  assert.deepEqual(snapshot(again), snapshot(t.target));
  cleanup(t.dir);
});

test('packDirectory round-trips: extract(pack(extract(x))) is the same tree, and packing is reproducible', rootOnly, async () => {
  const t = tmp();
  const src = path.join(t.dir, 'src');
  fs.mkdirSync(src);
  makeSourceTree(src);
  const first = path.join(t.dir, 'first');
  fs.mkdirSync(first);
  await extractLayer(Readable.from([gnuTar(src, 'pax')]), first, opts);
  // and a second layer's worth of overlay markers in the same diff
  await extractLayer(tarOf(tarEntry('gone/.wh.x'), tarEntry('opq/.wh..wh..opq'), tarEntry('opq/kept', { body: 'k' }), tarEntry('d/.wh.rel')), first, opts);
  const packed = await readAll(packDirectory(first, { overlayXattrPrefix: 'trusted.overlay.' }));
  const second = path.join(t.dir, 'second');
  fs.mkdirSync(second);
  const res = await extractLayer(chunked(packed, [65536]), second, opts);
  assert.deepEqual(snapshot(second), snapshot(first));
  assert.equal(res.size, 5 + 3 * 1024 * 1024 + 17 + 18 + 10 + 9 + 4 + 4 + 4 + 1 + 7 + 1);
  assert.equal(fs.statSync(path.join(second, 'hard')).ino, fs.statSync(path.join(second, 'f')).ino);
  assert.equal(native().lgetxattr(path.join(second, 'opq'), 'trusted.overlay.opaque')?.toString(), 'y');
  assert.deepEqual(native().lgetxattr(path.join(second, 'cap'), 'security.capability'), native().lgetxattr(path.join(src, 'cap'), 'security.capability'));
  const wh = fs.lstatSync(path.join(second, 'gone', 'x'));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0);
  // the layer tar itself: whiteouts and opaque markers as OCI names, sorted, readable by GNU tar
  const listing = execFileSync('tar', ['-tvf', '-'], { input: packed }).toString();
  assert.match(listing, /gone\/\.wh\.x\n/);
  assert.match(listing, /opq\/\n.*opq\/\.wh\.\.wh\.\.opq\n/);
  assert.match(listing, /^-rwsr-xr-x 0\/0 .* d\/suid$/m);
  assert.match(listing, /^hrw-r--r-- 1000\/1001 .* hard link to d\/hard2$/m);
  // reproducible: the same tree gives the same bytes
  const again = await readAll(packDirectory(second, { overlayXattrPrefix: 'trusted.overlay.' }));
  assert.ok(again.equals(packed), 'packing the re-extracted tree gives identical bytes');
  // GNU tar reads the xattrs back too
  const viaGnu = path.join(t.dir, 'gnu');
  fs.mkdirSync(viaGnu);
  execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-C', viaGnu, '-xf', '-'], { input: packed });
  assert.deepEqual(native().lgetxattr(path.join(viaGnu, 'cap'), 'security.capability'), native().lgetxattr(path.join(src, 'cap'), 'security.capability'));
  cleanup(t.dir);
});

test('extracted layers mount with overlayfs: whiteouts hide lower files, opaque directories hide lower contents', rootOnly, async (ctx) => {
  const t = tmp();
  const lower = path.join(t.dir, 'lower');
  const upper = path.join(t.dir, 'upper');
  const mnt = path.join(t.dir, 'mnt');
  for (const d of [lower, upper, mnt]) fs.mkdirSync(d);
  await extractLayer(tarOf(
    tarEntry('keep', { body: 'kept' }),
    tarEntry('gone', { body: 'deleted above' }),
    tarEntry('dir/', { type: '5' }),
    tarEntry('dir/gone-too', { body: 'deleted above' }),
    tarEntry('dir/stays', { body: 's' }),
    tarEntry('opq/', { type: '5' }),
    tarEntry('opq/old', { body: 'hidden by the opaque dir' }),
    tarEntry('opq/sub/', { type: '5' }),
  ), lower, opts);
  await extractLayer(tarOf(
    tarEntry('.wh.gone'),
    tarEntry('dir/', { type: '5' }),
    tarEntry('dir/.wh.gone-too'),
    tarEntry('opq/', { type: '5' }),
    tarEntry('opq/.wh..wh..opq'),
    tarEntry('opq/new', { body: 'new' }),
  ), upper, opts);
  const m = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${upper}:${lower}`, mnt]);
  if (m.status !== 0) {
    ctx.skip(`overlay mount not possible here: ${m.stderr.toString().trim()}`);
    cleanup(t.dir);
    return;
  }
  try {
    assert.deepEqual(fs.readdirSync(mnt).sort(), ['dir', 'keep', 'opq']);
    assert.equal(fs.readFileSync(path.join(mnt, 'keep'), 'utf8'), 'kept');
    assert.deepEqual(fs.readdirSync(path.join(mnt, 'dir')), ['stays']);
    assert.deepEqual(fs.readdirSync(path.join(mnt, 'opq')), ['new']);
    assert.ok(!fs.existsSync(path.join(mnt, 'gone')));
  } finally {
    execFileSync('umount', [mnt]);
    cleanup(t.dir);
  }
});
