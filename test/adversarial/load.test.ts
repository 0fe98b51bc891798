/**
 * Malicious archives for `load`: entries and references that climb out of the archive (`../`,
 * absolute paths, symlinked and hard-linked blobs, link loops), blobs that are not what their names
 * say, JSON documents too big or too deep to parse, and a compressed archive that inflates beyond
 * the decompression bound. Each is refused with one `Error:` line, leaves no layer, image or
 * staging, and writes nothing outside the store; the store then still pulls, builds and runs.
 * (Malicious layers inside archives are layers.test.ts, which loads each of them too.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { skiff, tempStore, type TempStore } from '../helpers/fixtures.js';
import { guard, oneError, stillWorks, storeState, type Outside } from './check.js';
import { archiveOf, blobMembers, dockerArchive, gzipBomb, makeImage, ociArchive, tarArchive, tarEntry, type TestImage } from './gen.js';

const hex = (d: string): string => d.slice(7);

interface ArchiveCase {
  name: string;
  archive: (img: TestImage, o: Outside) => Buffer;
  refused: RegExp;
}

const INVALID = /^Error: invalid image archive: /;

const CASES: ArchiveCase[] = [
  {
    name: 'an entry named ../',
    archive: (img, o) => Buffer.concat([archiveOf([{ name: `../../${o.token}`, body: 'pwned' }]).subarray(0, -1024), dockerArchive(img, 'adv/x:1')]),
    refused: /invalid image archive: entry "\.\.\/\.\.\/skiff-adv-[0-9a-f]+" points outside the archive$/,
  },
  {
    name: 'an entry with an absolute path',
    archive: (img, o) => Buffer.concat([archiveOf([{ name: `/tmp/${o.token}`, body: 'pwned' }]).subarray(0, -1024), dockerArchive(img, 'adv/x:1')]),
    refused: /invalid image archive: entry "\/tmp\/skiff-adv-[0-9a-f]+" has an absolute path$/,
  },
  {
    name: 'manifest.json naming a config outside the archive',
    archive: (img) => dockerArchive(img, 'adv/x:1', { manifest: { Config: '../../etc/passwd', RepoTags: ['adv/x:1'], Layers: [] } }),
    refused: /invalid image archive: entry "\.\.\/\.\.\/etc\/passwd" points outside the archive$/,
  },
  {
    name: 'manifest.json naming a layer by absolute path',
    archive: (img) => dockerArchive(img, 'adv/x:1', { manifest: { Config: `blobs/sha256/${hex(img.config.digest)}`, RepoTags: ['adv/x:1'], Layers: ['/etc/passwd'] } }),
    refused: /invalid image archive: entry "\/etc\/passwd" has an absolute path$/,
  },
  {
    name: 'manifest.json naming a layer through ../',
    archive: (img) => dockerArchive(img, 'adv/x:1', { manifest: { Config: `blobs/sha256/${hex(img.config.digest)}`, RepoTags: ['adv/x:1'], Layers: ['blobs/../../../etc/shadow'] } }),
    refused: /points outside the archive$/,
  },
  {
    name: 'a layer blob that is a symlink to /etc/passwd',
    archive: (img) => archiveOf([
      ...blobMembers(img).filter((m) => m.name !== `blobs/sha256/${hex(img.layers[0]!.digest)}`),
      { name: `blobs/sha256/${hex(img.layers[0]!.digest)}`, type: '2', link: '/etc/passwd' },
      { name: 'manifest.json', body: JSON.stringify([{ Config: `blobs/sha256/${hex(img.config.digest)}`, RepoTags: ['adv/x:1'], Layers: [`blobs/sha256/${hex(img.layers[0]!.digest)}`] }]) },
    ]),
    refused: /invalid image archive: entry "\/etc\/passwd" has an absolute path$/,
  },
  {
    name: 'a layer blob that is a relative symlink out of the archive',
    archive: (img) => archiveOf([
      { name: 'layer.tar', type: '2', link: '../../../../../../etc/passwd' },
      ...blobMembers(img),
      { name: 'manifest.json', body: JSON.stringify([{ Config: `blobs/sha256/${hex(img.config.digest)}`, RepoTags: ['adv/x:1'], Layers: ['layer.tar'] }]) },
    ]),
    refused: /invalid image archive: entry "\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd" points outside the archive$/,
  },
  {
    name: 'a config that is a hard link to /etc/passwd',
    archive: (img) => archiveOf([
      { name: 'config.json', type: '1', link: '/etc/passwd' },
      ...blobMembers(img),
      { name: 'manifest.json', body: JSON.stringify([{ Config: 'config.json', RepoTags: ['adv/x:1'], Layers: [] }]) },
    ]),
    refused: /invalid image archive: entry "\/etc\/passwd" has an absolute path$/,
  },
  {
    name: 'a loop of symlinks',
    archive: (img) => archiveOf([
      { name: 'a', type: '2', link: 'b' },
      { name: 'b', type: '2', link: 'a' },
      ...blobMembers(img),
      { name: 'manifest.json', body: JSON.stringify([{ Config: 'a', RepoTags: ['adv/x:1'], Layers: [] }]) },
    ]),
    refused: /invalid image archive: too many levels of links at "[ab]"$/,
  },
  {
    name: 'an OCI blob that is a symlink to another blob (its digest does not match its name)',
    archive: (img) => {
      const m = `blobs/sha256/${hex(img.manifest.digest)}`;
      return archiveOf([
        ...blobMembers(img).filter((b) => b.name !== m),
        { name: m, type: '2', link: hex(img.config.digest) },
        { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
        { name: 'index.json', body: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: img.manifest.mediaType, digest: img.manifest.digest, size: img.manifest.bytes.length }] }) },
      ]);
    },
    refused: /^Error: digest mismatch for manifest sha256:[0-9a-f]{64} in the archive: got sha256:[0-9a-f]{64}: the archive is corrupt and nothing was loaded$/,
  },
  {
    name: 'index.json with a digest that is a path',
    archive: (img) => archiveOf([
      ...blobMembers(img),
      { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
      { name: 'index.json', body: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: img.manifest.mediaType, digest: 'sha256:../../../../etc/passwd', size: 10 }] }) },
    ]),
    refused: /^Error: invalid digest "sha256:\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd": invalid checksum digest/,
  },
  {
    name: 'a manifest.json of 20 MB',
    archive: () => archiveOf([{ name: 'manifest.json', body: `[${' '.repeat(20_000_000)}]` }]),
    refused: /invalid image archive: manifest.json is 20000002 bytes, larger than the limit of 8 MiB$/,
  },
  {
    name: 'a config nested a million levels deep',
    archive: (img) => archiveOf([
      ...blobMembers(img),
      { name: 'deep.json', body: '['.repeat(1_000_000) },
      { name: 'manifest.json', body: JSON.stringify([{ Config: 'deep.json', RepoTags: ['adv/x:1'], Layers: [] }]) },
    ]),
    refused: /invalid image archive: image config deep.json is not valid JSON$/,
  },
  {
    name: 'an archive cut short inside a blob',
    archive: (img) => dockerArchive(img, 'adv/x:1').subarray(0, 1536),
    refused: /invalid image archive: truncated input \(needed \d+ more bytes, only 0 available\)$/,
  },
  {
    name: 'a gzip archive inflating beyond the bound (1 GiB + 100 times its size)',
    archive: () => gzipBomb(tarEntry('big', { size: 3 * 1024 * 1024 * 1024 }), 1024 * 1024, 1200, Buffer.alloc(1024)),
    refused: /^Error: the archive inflates to more than 100 times its compressed size plus 1024 MiB: refused as a possible decompression bomb$/,
  },
];

describe('malicious archives for load', () => {
  let store: TempStore;
  let out: Outside;
  let work: string;
  // a small, valid image each archive wraps (one gzip layer)
  const img = makeImage([tarArchive(tarEntry('hello', { body: 'hello\n' }))]);

  before(async () => {
    store = await tempStore();
    out = guard(store);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-adv-load-'));
  });
  after(async () => {
    await store.cleanup();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('the plain image the cases start from loads (the archives are right but for what each case breaks)', async () => {
    for (const [name, bytes] of [['docker', dockerArchive(img, 'adv/plain:docker')], ['oci', ociArchive(img, 'adv/plain:oci')]] as const) {
      const f = path.join(work, `${name}.tar`);
      fs.writeFileSync(f, bytes);
      const r = await skiff(['load', '-i', f], { store });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Loaded image: adv/plain:${name}`));
    }
    assert.equal((await skiff(['rmi', 'adv/plain:docker', 'adv/plain:oci'], { store })).code, 0);
  });

  for (const c of CASES) {
    test(c.name, async () => {
      const before = storeState(store);
      const f = path.join(work, 'case.tar');
      fs.writeFileSync(f, c.archive(img, out));
      const r = await skiff(['load', '-i', f], { store });
      fs.rmSync(f);
      oneError(r, c.refused, c.name);
      if (!c.refused.source.startsWith('^')) assert.match(r.stderr, INVALID);
      assert.deepEqual(storeState(store), before, `${c.name}: the store kept something`);
      out.unchanged(c.name);
    });
  }

  test('load -i of a directory', async () => {
    oneError(await skiff(['load', '-i', work], { store }), /^Error: cannot read .*: it is a directory$/, 'directory');
  });

  test('the same archive on stdin, compressed: refused the same way', async () => {
    const bytes = zlib.gzipSync(CASES[0]!.archive(img, out));
    const r = await skiff(['load'], { store, input: bytes });
    oneError(r, CASES[0]!.refused, 'stdin');
    assert.deepEqual(storeState(store).tmp, []);
    out.unchanged('stdin');
  });

  test('the store that saw them all still pulls, builds and runs; nothing outside it changed', async () => {
    await stillWorks(store);
    out.unchanged('after the health check');
  });
});

