/**
 * What pull checks in a layer besides its blob digest, through the CLI: images are pushed to the
 * real registry through the distribution API by this test (bytes made here, not by skiff), with a
 * valid blob digest each time, so only skiff's own checks can refuse them:
 * a config whose diff_ids lie (diffID mismatch), gzip that is damaged or cut short, and a layer
 * that is a plain tar under a gzip media type (accepted: the magic bytes decide, as in containerd).
 * A refused pull exits 125 with one `Error:` line and leaves no layer, image or staging.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { registry, skiff, tempStore, type TempStore } from '../helpers/fixtures.js';
import { makeImage, pushImage, sha256 as sha, tarArchive, tarEntry } from '../adversarial/gen.js';

/** A one-file archive. */
const tarOf = (name: string, body: Buffer): Buffer => tarArchive(tarEntry(name, { body, mtime: 0 }));

/** Push an image of one layer; `diffId` is what its config claims (the true one unless told). */
async function pushOne(reg: string, repo: string, blob: Buffer, o: { diffId: string; mediaType?: string }): Promise<string> {
  return pushImage(reg, repo, 'latest', makeImage([{ blob, diffId: o.diffId, mediaType: o.mediaType ?? 'application/vnd.oci.image.layer.v1.tar+gzip' }]));
}

const ls = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);

describe('pull verifies layer contents', () => {
  const reg = registry();
  const tar = tarOf('hello.txt', Buffer.from('hello from a hand-made layer\n'.repeat(200)));
  const diffId = sha(tar);
  const gz = zlib.gzipSync(tar);
  let store: TempStore;
  before(async () => {
    store = await tempStore();
  });
  after(async () => {
    await store.cleanup();
  });

  /** The pull fails with exit 125, one Error line matching `re`, and keeps no layer, image or staging. */
  async function refused(ref: string, re: RegExp): Promise<void> {
    const s = await tempStore();
    try {
      const r = await skiff(['pull', ref], { store: s });
      assert.equal(r.code, 125, r.stderr);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('Error'));
      assert.equal(errors.length, 1, r.stderr);
      assert.match(errors[0]!, re);
      assert.deepEqual(ls(`${s.root}/layers`).filter((n) => /^[0-9a-f]{64}$/.test(n)), [], 'no layer');
      assert.deepEqual(ls(`${s.root}/images`).filter((n) => n !== 'repositories.json'), [], 'no image');
      assert.deepEqual(ls(`${s.root}/tmp`), [], 'no staging');
    } finally {
      await s.cleanup();
    }
  }

  test('a good hand-made gzip layer pulls and its file is there', async () => {
    const ref = await pushOne(reg, 'verify/good', gz, { diffId });
    const r = await skiff(['pull', '-q', ref], { store });
    assert.equal(r.code, 0, r.stderr);
    const inspect = JSON.parse((await skiff(['image', 'inspect', ref], { store })).stdout) as { RootFS: { Layers: string[] } }[];
    assert.deepEqual(inspect[0]!.RootFS.Layers, [diffId]);
    const layerDirs = ls(`${store.root}/layers`).filter((n) => /^[0-9a-f]{64}$/.test(n));
    assert.equal(layerDirs.length, 1);
    assert.equal(fs.readFileSync(`${store.root}/layers/${layerDirs[0]}/diff/hello.txt`, 'utf8'), 'hello from a hand-made layer\n'.repeat(200));
  });

  test('a config whose diffID does not match the layer: refused, nothing kept', async () => {
    const ref = await pushOne(reg, 'verify/lying-config', gz, { diffId: sha(Buffer.from('something else')) });
    await refused(ref, /^Error: pull .*verify\/lying-config:latest: digest mismatch for uncompressed layer sha256:[0-9a-f]{64}: expected .*, got sha256:/);
  });

  test('damaged gzip (valid blob digest): refused as not valid gzip data', async () => {
    const bad = Buffer.from(gz);
    for (let i = 20; i < 40; i++) bad[i] = 0xff; // the deflate stream right after the header
    const ref = await pushOne(reg, 'verify/bad-gzip', bad, { diffId });
    await refused(ref, /^Error: pull .*verify\/bad-gzip:latest: layer is not valid gzip data: /);
  });

  test('gzip cut short (valid blob digest): refused', async () => {
    const ref = await pushOne(reg, 'verify/short-gzip', gz.subarray(0, Math.floor(gz.length / 2)), { diffId });
    await refused(ref, /^Error: pull .*verify\/short-gzip:latest: layer is not valid gzip data: unexpected end of file/);
  });

  test('a plain tar under a gzip media type: the magic bytes decide, it pulls', async () => {
    const ref = await pushOne(reg, 'verify/plain-tar', tar, { diffId });
    const s = await tempStore(); // a store without the layer: it must be downloaded and extracted here
    try {
      const r = await skiff(['pull', '-q', ref], { store: s });
      assert.equal(r.code, 0, r.stderr);
      const layerDirs = ls(`${s.root}/layers`).filter((n) => /^[0-9a-f]{64}$/.test(n));
      assert.equal(fs.readFileSync(`${s.root}/layers/${layerDirs[0]}/diff/hello.txt`, 'utf8'), 'hello from a hand-made layer\n'.repeat(200));
    } finally {
      await s.cleanup();
    }
  });
});
