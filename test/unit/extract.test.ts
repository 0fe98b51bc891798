/** Layer extraction: tar features, overlay whiteouts, and refusal of entries escaping the layer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { extractLayer } from '../../src/store/extract.js';
import { native } from '../../src/native.js';

const asRoot = process.getuid!() === 0;
const opts = { overlayXattrPrefix: 'trusted.overlay.' as const, chown: asRoot };

/** A minimal ustar writer for hand-made (also malicious) archives. */
function tarEntry(name: string, o: { type?: string; body?: string; link?: string; mode?: number } = {}): Buffer {
  const body = Buffer.from(o.body ?? '');
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write(((o.mode ?? 0o644).toString(8)).padStart(7, '0'), 100);
  h.write('0000000', 108);
  h.write('0000000', 116);
  h.write(body.length.toString(8).padStart(11, '0'), 124);
  h.write('00000000000', 136);
  h.write(o.type ?? '0', 156);
  if (o.link) h.write(o.link, 157, 100);
  h.write('ustar\x0000', 257);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  const pad = Buffer.alloc(Math.ceil(body.length / 512) * 512);
  body.copy(pad);
  return Buffer.concat([h, pad]);
}
const tarOf = (...entries: Buffer[]): Readable => Readable.from([Buffer.concat([...entries, Buffer.alloc(1024)])]);

function tmp(): { dir: string; target: string; canary: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-extract-'));
  const target = path.join(dir, 'a', 'b', 'layer');
  fs.mkdirSync(target, { recursive: true });
  return { dir, target, canary: path.join(dir, 'a') };
}

const listTree = (d: string): string[] =>
  execFileSync('find', [d, '-printf', '%P %y %m %U:%G %s %l\n']).toString().split('\n').filter(Boolean).sort();

test('a GNU tar of a real tree round-trips: modes, setuid, sticky, owners, hard and symbolic links, long names', async () => {
  const t = tmp();
  const src = path.join(t.dir, 'src');
  fs.mkdirSync(path.join(src, 'd', 'sticky'), { recursive: true });
  fs.chmodSync(path.join(src, 'd', 'sticky'), 0o1777);
  fs.writeFileSync(path.join(src, 'd', 'suid'), 'x');
  fs.chmodSync(path.join(src, 'd', 'suid'), 0o4755);
  fs.writeFileSync(path.join(src, 'f'), 'hello');
  fs.linkSync(path.join(src, 'f'), path.join(src, 'hard'));
  fs.symlinkSync('/etc/passwd', path.join(src, 'abs'));
  fs.symlinkSync('../f', path.join(src, 'd', 'rel'));
  const long = 'n'.repeat(120) + '/' + 'm'.repeat(150);
  fs.mkdirSync(path.join(src, 'n'.repeat(120)));
  fs.writeFileSync(path.join(src, long), 'long');
  if (asRoot) fs.chownSync(path.join(src, 'f'), 1000, 1000);
  const tarball = execFileSync('tar', ['--format=pax', '-C', src, '-cf', '-', '.'], { maxBuffer: 1 << 26 });
  const res = await extractLayer(Readable.from([tarball]), t.target, opts);
  assert.equal(res.size, 5 + 1 + 4);
  assert.deepEqual(listTree(t.target), listTree(src));
  assert.equal(fs.statSync(path.join(t.target, 'hard')).ino, fs.statSync(path.join(t.target, 'f')).ino);
  fs.rmSync(t.dir, { recursive: true, force: true });
});

test('whiteouts become 0:0 character devices and opaque markers an xattr', { skip: !asRoot && 'needs root for trusted.* xattrs' }, async () => {
  const t = tmp();
  await extractLayer(tarOf(tarEntry('dir/', { type: '5', mode: 0o755 }), tarEntry('dir/.wh.gone'), tarEntry('opq/.wh..wh..opq')), t.target, opts);
  const st = fs.lstatSync(path.join(t.target, 'dir', 'gone'));
  assert.ok(st.isCharacterDevice());
  assert.equal(st.rdev, 0);
  assert.equal(native().lgetxattr(path.join(t.target, 'opq'), 'trusted.overlay.opaque')?.toString(), 'y');
  fs.rmSync(t.dir, { recursive: true, force: true });
});

test('entries escaping the layer are refused and nothing is written outside it', async () => {
  const attacks: [string, Buffer[]][] = [
    ['dot-dot', [tarEntry('../evil', { body: 'x' })]],
    ['nested dot-dot', [tarEntry('a/../../evil', { body: 'x' })]],
    ['absolute with dot-dot', [tarEntry('/../../evil', { body: 'x' })]],
    ['through a symlink to /', [tarEntry('s', { type: '2', link: '/' }), tarEntry('s/tmp/evil', { body: 'x' })]],
    ['through a symlink to ..', [tarEntry('s', { type: '2', link: '..' }), tarEntry('s/evil', { body: 'x' })]],
    ['hard link out', [tarEntry('h', { type: '1', link: '../../evil-target' })]],
  ];
  for (const [name, entries] of attacks) {
    const t = tmp();
    fs.writeFileSync(path.join(t.dir, 'evil-target'), 'secret');
    const before = listTree(t.dir).filter((l) => !l.startsWith('a/b/layer/'));
    await assert.rejects(extractLayer(tarOf(...entries), t.target, opts), /escapes the layer root/, name);
    const after = listTree(t.dir).filter((l) => !l.startsWith('a/b/layer/') && l !== 'a/b/layer d 755 0:0 4096 ');
    assert.deepEqual(after.filter((l) => !l.startsWith('a/b/layer ')), before.filter((l) => !l.startsWith('a/b/layer ')), name);
    fs.rmSync(t.dir, { recursive: true, force: true });
  }
});

test('corrupt or truncated archives fail with a clear error', async () => {
  const t = tmp();
  const bad = tarEntry('f', { body: 'x' });
  bad[150] = 0x37; // break the checksum
  await assert.rejects(extractLayer(tarOf(bad), t.target, opts), /invalid tar header at offset 0: checksum mismatch/);
  const entry = tarEntry('big', { body: 'y'.repeat(2000) });
  await assert.rejects(extractLayer(Readable.from([entry.subarray(0, 1024)]), t.target, opts), /truncated/);
  fs.rmSync(t.dir, { recursive: true, force: true });
});

test('packDirectory turns an extracted layer back into the same layer (round trip, whiteouts and opaque dirs too)', { skip: !asRoot && 'needs root for owners and trusted.* xattrs' }, async () => {
  const { packDirectory } = await import('../../src/store/tarball.js');
  const t = tmp();
  const src = path.join(t.dir, 'src');
  fs.mkdirSync(path.join(src, 'd'), { recursive: true });
  fs.writeFileSync(path.join(src, 'd', 'f'), 'x'.repeat(1000));
  fs.chmodSync(path.join(src, 'd', 'f'), 0o4750);
  fs.chownSync(path.join(src, 'd', 'f'), 1000, 50);
  fs.linkSync(path.join(src, 'd', 'f'), path.join(src, 'hard'));
  fs.symlinkSync('d/f', path.join(src, 'sym'));
  fs.writeFileSync(path.join(src, 'l'.repeat(150)), 'long');
  const first = path.join(t.dir, 'first');
  fs.mkdirSync(first);
  await extractLayer(Readable.from([execFileSync('tar', ['--format=pax', '-C', src, '-cf', '-', '.'])]), first, opts);
  await extractLayer(tarOf(tarEntry('gone/.wh.x'), tarEntry('opq/.wh..wh..opq')), first, opts);
  const second = path.join(t.dir, 'second');
  fs.mkdirSync(second);
  await extractLayer(packDirectory(first, { overlayXattrPrefix: 'trusted.overlay.' }), second, opts);
  const withoutRoot = (l: string[]): string[] => l.filter((x) => !x.startsWith(' '));
  assert.deepEqual(withoutRoot(listTree(second)), withoutRoot(listTree(first)));
  assert.equal(fs.statSync(path.join(second, 'hard')).ino, fs.statSync(path.join(second, 'd', 'f')).ino);
  assert.equal(native().lgetxattr(path.join(second, 'opq'), 'trusted.overlay.opaque')?.toString(), 'y');
  const wh = fs.lstatSync(path.join(second, 'gone', 'x'));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0);
  fs.rmSync(t.dir, { recursive: true, force: true });
});
