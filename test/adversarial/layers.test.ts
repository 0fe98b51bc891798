/**
 * Malicious layers, through `pull` (pushed to the test registry) and through `load` (a
 * docker-archive): every layer sits on busybox's own layer, so the image would run if it were
 * accepted. Each case is refused with one `Error:` line, or (absolute names, duplicates, forged
 * overlay xattrs, an opaque root) accepted with the safe result checked in the layer's diff; either
 * way nothing outside the store changes and no staging stays. Last, the store that saw them all
 * still pulls, builds and runs. Device nodes in layers are test/adversarial/devices*.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, registry, skiff, tempStore, type TempStore } from '../helpers/fixtures.js';
import { native } from '../../src/native.js';
import { guard, oneError, stillWorks, storeState, type Outside } from './check.js';
import {
  dockerArchive, gnuLong, gzipBomb, longEntry, longFile, makeImage, pax, pushImage, sha256, tarArchive, tarEntry, zstdBomb,
  type LayerSpec, type TestImage,
} from './gen.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

interface LayerCase {
  name: string;
  /** the malicious layer (a tar, gzipped unless told) */
  layer: (o: Outside) => LayerSpec;
  /** what the error line says; without it the layer is accepted and `accepted` checks its diff */
  refused?: RegExp;
  accepted?: (diff: string, o: Outside) => void;
}

const file = (name: string, body = 'pwned\n'): Buffer => tarEntry(name, { body });
const dir = (name: string): Buffer => tarEntry(name.endsWith('/') ? name : `${name}/`, { type: '5' });
const symlink = (name: string, link: string): Buffer => tarEntry(name, { type: '2', link });
const hardlink = (name: string, link: string): Buffer => tarEntry(name, { type: '1', link });
/** From a layer's staging diff (root/tmp/<staging>/diff) four levels up is the store's base, where marker/ is. */
const UP = '../../../../';
const ESCAPES = /layer sha256:[0-9a-f]{64} entry ".*": path escapes the layer root$/;

/** The xattrs of a path (all namespaces we may read), as "name=hex". */
function xattrs(p: string): string[] {
  return native().llistxattr(p).sort().map((k) => `${k}=${native().lgetxattr(p, k)?.toString('hex')}`);
}

const CASES: LayerCase[] = [
  // ---- path traversal
  { name: 'a ../ path', layer: (o) => tarArchive(file(`${UP}marker/${o.token}`)), refused: ESCAPES },
  { name: 'a ./../ path', layer: (o) => tarArchive(file(`./${UP}marker/${o.token}`)), refused: ESCAPES },
  { name: 'a path climbing back out', layer: (o) => tarArchive(file(`a/b/../../${UP}marker/${o.token}`)), refused: ESCAPES },
  { name: 'twenty ../ then the marker\'s absolute path', layer: (o) => tarArchive(longFile(`${'../'.repeat(20)}${o.marker.slice(1)}/${o.token}`)), refused: ESCAPES },
  { name: 'a ../ path in a PAX header', layer: (o) => tarArchive(pax([['path', `${UP}marker/${o.token}`]]), file('harmless')), refused: ESCAPES },
  { name: 'a ../ path in a GNU long name', layer: (o) => tarArchive(gnuLong('L', `${UP}marker/${o.token}`), file('harmless')), refused: ESCAPES },
  { name: 'a ../ directory', layer: (o) => tarArchive(dir(`${UP}marker/${o.token}`)), refused: ESCAPES },
  {
    name: 'a name with a newline and ../ (the error stays one line)',
    layer: (o) => tarArchive(file(`${UP}${o.token}\nError: forged second line`)),
    refused: /entry ".*\\x0aError: forged second line": path escapes the layer root$/,
  },
  {
    name: 'absolute paths (kept inside the layer, as Docker does)',
    layer: (o) => tarArchive(file(`/tmp/${o.token}`), longFile(`${o.marker}/${o.token}`, 'pwned\n')),
    accepted: (diff, o) => {
      assert.equal(fs.readFileSync(path.join(diff, 'tmp', o.token), 'utf8'), 'pwned\n');
      assert.equal(fs.readFileSync(path.join(diff, o.marker, o.token), 'utf8'), 'pwned\n');
    },
  },
  // ---- symlink escapes
  { name: 'a symlink to / and a file through it', layer: (o) => tarArchive(symlink('s', '/'), file(`s/tmp/${o.token}`)), refused: ESCAPES },
  { name: 'a symlink to the marker and a file through it', layer: (o) => tarArchive(symlink('s', o.marker), file(`s/${o.token}`)), refused: ESCAPES },
  { name: 'a relative symlink out and a file through it', layer: (o) => tarArchive(symlink('s', `${UP}marker`), file(`s/${o.token}`)), refused: ESCAPES },
  { name: 'a chain of symlinks out', layer: (o) => tarArchive(symlink('a', 'b'), symlink('b', o.marker), file(`a/${o.token}`)), refused: ESCAPES },
  { name: 'a symlink parent, a directory through it', layer: (o) => tarArchive(symlink('s', o.marker), dir(`s/${o.token}`)), refused: ESCAPES },
  { name: 'a symlink parent, a symlink through it', layer: (o) => tarArchive(symlink('s', o.marker), symlink(`s/${o.token}`, '/')), refused: ESCAPES },
  { name: 'a symlink parent, a whiteout through it', layer: () => tarArchive(symlink('s', '/etc'), tarEntry('s/.wh.passwd')), refused: ESCAPES },
  { name: 'a directory replaced by a symlink, then written through', layer: (o) => tarArchive(dir('d'), file('d/x'), symlink('d', o.marker), file(`d/${o.token}`)), refused: ESCAPES },
  // ---- hard link escapes
  { name: 'a hard link to /etc/passwd', layer: () => tarArchive(hardlink('h', '/etc/passwd')), refused: /hard link target "\/etc\/passwd" is not in the layer$/ },
  { name: 'a hard link to ../ the marker', layer: () => tarArchive(hardlink('h', `${UP}marker/file`)), refused: /hard link target escapes the layer root$/ },
  { name: 'a hard link through a symlink to /', layer: () => tarArchive(symlink('s', '/'), hardlink('h', 's/etc/passwd')), refused: ESCAPES },
  { name: 'a hard link to a symlink, written through', layer: (o) => tarArchive(symlink('s', o.marker), hardlink('h', 's'), file(`h/${o.token}`)), refused: ESCAPES },
  { name: 'a hard link to a directory', layer: () => tarArchive(dir('d'), hardlink('h', 'd')), refused: /hard link target "d" is a directory$/ },
  // ---- whiteouts and overlay metadata
  { name: 'a whiteout of ..', layer: () => tarArchive(dir('d'), tarEntry('d/.wh...')), refused: /invalid whiteout name$/ },
  { name: 'a whiteout of .', layer: () => tarArchive(tarEntry('.wh..')), refused: /invalid whiteout name$/ },
  {
    name: 'an opaque whiteout at the root (kept as Docker keeps it: overlayfs ignores it on a layer root)',
    layer: () => tarArchive(tarEntry('.wh..wh..opq'), file('only-this')),
    accepted: (diff) => assert.equal(fs.readFileSync(path.join(diff, 'only-this'), 'utf8'), 'pwned\n'),
  },
  {
    name: 'xattrs forging overlay metadata (dropped)',
    layer: () => tarArchive(
      pax([['SCHILY.xattr.trusted.overlay.opaque', 'y'], ['SCHILY.xattr.user.overlay.opaque', 'y']]), dir('opaque'),
      pax([['SCHILY.xattr.trusted.overlay.redirect', '/etc'], ['SCHILY.xattr.user.overlay.redirect', '/etc']]), dir('redirect'),
      pax([['SCHILY.xattr.trusted.overlay.metacopy', ''], ['SCHILY.xattr.user.overlay.origin', 'x'], ['SCHILY.xattr.user.kept', 'yes']]), file('f'),
    ),
    accepted: (diff) => {
      for (const p of ['opaque', 'redirect', 'f']) {
        assert.deepEqual(xattrs(path.join(diff, p)).filter((x) => x.includes('overlay.')), [], `${p} keeps an overlay xattr`);
      }
      assert.ok(xattrs(path.join(diff, 'f')).includes(`user.kept=${Buffer.from('yes').toString('hex')}`), 'other xattrs stay');
    },
  },
  {
    name: 'duplicate entries (the last one wins, as tar does)',
    layer: () => tarArchive(file('f', 'first'), file('f', 'second'), dir('d'), file('d', 'a file now'), file('x'), dir('x'), file('x/y', 'inside')),
    accepted: (diff) => {
      assert.equal(fs.readFileSync(path.join(diff, 'f'), 'utf8'), 'second');
      assert.equal(fs.readFileSync(path.join(diff, 'd'), 'utf8'), 'a file now');
      assert.equal(fs.readFileSync(path.join(diff, 'x', 'y'), 'utf8'), 'inside');
    },
  },
  // ---- deep and long paths
  {
    name: 'directories 3000 levels deep, one entry each',
    layer: () => tarArchive(...Array.from({ length: 3000 }, (_, i) => longEntry('a/'.repeat(i + 1), { type: '5' }))),
    refused: /entry "a\/a\/a.*\.\.\..*\(\d+ bytes\)": path is 1025 levels deep, deeper than the limit of 1024$/,
  },
  { name: 'one file 3000 levels deep', layer: () => tarArchive(longFile(`${'a/'.repeat(3000)}f`)), refused: /path is 3001 levels deep, deeper than the limit of 1024$/ },
  { name: 'a path of 4250 bytes', layer: () => tarArchive(longFile(Array.from({ length: 17 }, () => 'p'.repeat(249)).join('/'))), refused: /path is 4249 bytes long, longer than PATH_MAX allows \(4095\)$/ },
  { name: 'a name of 300 bytes', layer: () => tarArchive(longFile('n'.repeat(300))), refused: /path has a name of 300 bytes, longer than NAME_MAX \(255\)$/ },
  { name: 'a symlink target of 5000 bytes', layer: () => tarArchive(pax([['linkpath', 't'.repeat(5000)]]), symlink('s', 'x')), refused: /link target is 5000 bytes long, longer than PATH_MAX allows \(4095\)$/ },
  { name: 'a hard link target 1100 levels deep', layer: () => tarArchive(file('f'), pax([['linkpath', `${'d/'.repeat(1100)}f`]]), hardlink('h', 'x')), refused: /hard link target is 1101 levels deep, deeper than the limit of 1024$/ },
  // ---- huge headers
  { name: 'a PAX header of 2 MiB', layer: () => tarArchive(pax([['comment', 'x'.repeat(2 * MiB)]]), file('f')), refused: /invalid tar header at offset 0: extended header of \d+ bytes is larger than the limit of 1 MiB$/ },
  {
    name: 'PAX headers adding up past 1 MiB for one entry',
    layer: () => tarArchive(...[1, 2, 3].map((i) => pax([[`comment${i}`, 'x'.repeat(600 * 1024)]])), file('f')),
    refused: /PAX records for one entry exceed the limit of 1 MiB$/,
  },
  {
    name: 'global PAX headers adding up past 1 MiB',
    layer: () => tarArchive(...[1, 2, 3].map((i) => pax([[`comment${i}`, 'x'.repeat(600 * 1024)]], 'g')), file('f')),
    refused: /global PAX records exceed the limit of 1 MiB$/,
  },
  { name: 'a GNU long name of 100 MB', layer: () => tarArchive(gnuLong('L', Buffer.alloc(100_000_000, 'a')), file('f')), refused: /extended header of 100000001 bytes is larger than the limit of 1 MiB$/ },
  { name: 'a NUL byte in a PAX path', layer: () => tarArchive(pax([['path', 'a\0b']]), file('f')), refused: /name contains a NUL byte$/ },
  // ---- sizes that lie
  { name: 'a file longer than the archive', layer: () => tarArchive(tarEntry('f', { body: 'x'.repeat(100), size: 10 * MiB })), refused: /archive is truncated at offset \d+$/ },
  { name: 'a negative base-256 size', layer: () => tarArchive(tarEntry('f', { body: 'x', size: Buffer.alloc(12, 0xff) })), refused: /invalid tar header at offset 0: bad size field$/ },
  { name: 'a base-256 size past 2^53', layer: () => tarArchive(tarEntry('f', { body: 'x', size: Buffer.from([0x80, ...Array(11).fill(0xff)]) })), refused: /invalid tar header at offset 0: bad size field$/ },
  // ---- bombs: refused at the header, before a byte of the 2 GiB is written
  {
    name: 'a gzip bomb (2 GiB of zeros from ~2 MB)',
    layer: () => ({ blob: gzipBomb(tarEntry('bomb', { size: 2 * GiB }), MiB, 2048, Buffer.alloc(1024)), diffId: sha256(Buffer.from('not checked: refused first')), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }),
    refused: /inflates to more than 100 times its compressed size plus 1024 MiB: refused as a possible decompression bomb$/,
  },
  {
    name: 'a zstd bomb (2 GiB of zeros from ~64 KB)',
    layer: () => ({ blob: zstdBomb(tarEntry('bomb', { size: 2 * GiB }), 0, 2 * GiB, Buffer.alloc(1024)), diffId: sha256(Buffer.from('not checked: refused first')), mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' }),
    refused: /inflates to more than 100 times its compressed size plus 1024 MiB: refused as a possible decompression bomb$/,
  },
];

/** ChainID of the top layer of `img` (OCI image spec). */
function topChainId(img: TestImage): string {
  let chain = '';
  for (const l of img.layers) chain = chain ? sha256(Buffer.from(`${chain} ${l.diffId}`)) : l.diffId;
  return chain;
}

describe('malicious layers (pull and load)', () => {
  const runId = `${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  const busybox = fixtures().images.busybox;
  let base: LayerSpec;
  let store: TempStore;
  let out: Outside;
  let work: string;

  before(async () => {
    const l = busybox.layers![0]!;
    const r = await fetch(`http://${registry()}/v2/${busybox.repository}/blobs/${l.digest}`);
    base = { blob: Buffer.from(await r.arrayBuffer()), diffId: l.diffId, mediaType: l.mediaType };
    store = await tempStore();
    assert.equal((await skiff(['pull', '-q', busybox.ref], { store })).code, 0); // the base layer is there: a refused layer adds none
    out = guard(store);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-adv-layers-'));
  });
  after(async () => {
    await store.cleanup();
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function check(c: LayerCase, how: 'pull' | 'load', i: number): Promise<void> {
    const img = makeImage([base, c.layer(out)]);
    const tag = `adv-layers/c${i}:${how}-${runId}`;
    const before = storeState(store);
    let r;
    if (how === 'pull') {
      r = await skiff(['pull', '-q', await pushImage(registry(), `adv-layers/c${i}`, `${how}-${runId}`, img)], { store });
    } else {
      const archive = path.join(work, `c${i}.tar`);
      fs.writeFileSync(archive, dockerArchive(img, tag));
      r = await skiff(['load', '-q', '-i', archive], { store });
      fs.rmSync(archive);
    }
    const what = `${how}: ${c.name}`;
    if (c.refused) {
      oneError(r, c.refused, what);
      assert.deepEqual(storeState(store), before, `${what}: the store kept something`);
    } else {
      assert.equal(r.code, 0, `${what}: ${r.stderr}`);
      assert.deepEqual(storeState(store).tmp, [], `${what}: staging left`);
      c.accepted!(path.join(store.root, 'layers', topChainId(img).slice(7), 'diff'), out);
    }
    out.unchanged(what);
  }

  CASES.forEach((c, i) => {
    test(`pull: ${c.name}`, () => check(c, 'pull', i));
    test(`load: ${c.name}`, () => check(c, 'load', i));
  });

  test('a config whose diff_ids are paths, not digests: refused before any store path is made of them', async () => {
    const img = makeImage([base]);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:../../../marker/${out.token}`] } }));
    const bad: TestImage = { ...img, config: { bytes: config, digest: sha256(config), mediaType: img.config.mediaType } };
    const manifest = Buffer.from(JSON.stringify({ ...JSON.parse(img.manifest.bytes.toString()), config: { mediaType: img.config.mediaType, digest: bad.config.digest, size: config.length } }));
    bad.manifest = { bytes: manifest, digest: sha256(manifest), mediaType: img.manifest.mediaType };
    const before = storeState(store);
    const r = await skiff(['pull', '-q', await pushImage(registry(), 'adv-layers/diffids', runId, bad)], { store });
    oneError(r, /invalid image config for .*: rootfs\.diff_ids has "sha256:\.\.\/\.\.\/\.\.\/marker\/skiff-adv-[0-9a-f]+": invalid checksum digest/, 'diff_ids');
    assert.deepEqual(storeState(store), before);
    out.unchanged('diff_ids');
  });

  test('layers skiff makes keep the same limits: a RUN step or a container 1500 levels deep is refused, not packed', async () => {
    const deep = 'cd /tmp && i=0 && while [ $i -lt 1500 ]; do mkdir d && cd d; i=$((i+1)); done && echo deep > f';
    const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-adv-deep-'));
    try {
      fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${busybox.ref}\nRUN ${deep}\n`);
      const before = storeState(store);
      oneError(await skiff(['build', '-q', ctx], { store }), /^Error: Dockerfile:2: RUN: layer entry "tmp\/d\/d.*\.\.\..*\(\d+ bytes\)": path is 1025 levels deep, deeper than the limit of 1024$/, 'build');
      assert.deepEqual(storeState(store), before, 'build left something');
      assert.equal((await skiff(['run', '--name', `adv-deep-${runId}`, busybox.ref, 'sh', '-c', deep], { store })).code, 0);
      oneError(await skiff(['commit', `adv-deep-${runId}`, 'adv-deep-commit'], { store }), /layer entry "tmp\/d\/d.*": path is 1025 levels deep, deeper than the limit of 1024$/, 'commit');
      assert.equal((await skiff(['rm', `adv-deep-${runId}`], { store })).code, 0);
      assert.deepEqual(storeState(store), before, 'commit left something');
    } finally {
      fs.rmSync(ctx, { recursive: true, force: true });
    }
    out.unchanged('made layers');
  });

  test('the store that saw them all still pulls, builds and runs; nothing outside it changed', async () => {
    await stillWorks(store);
    out.unchanged('after the health check');
  });
});
