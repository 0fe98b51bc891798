/**
 * Pull under faults, through the CLI: `kill -9` at several points of a pull (a registry proxy
 * holds a blob mid-way, so the kill lands exactly there) must leave nothing in the store that looks
 * complete — layer dirs only by rename, blobs only after verification, leftovers only in tmp/ — and
 * the next pull must succeed and sweep tmp/. Concurrent pulls of the same and of overlapping images
 * into one store must all succeed and extract each layer once.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  fixtures, skiff, startBrokenRegistry, tempStore, type FixtureImage, type FixtureName, type RunResult, type TempStore,
} from '../helpers/fixtures.js';

const HEX = /^[0-9a-f]{64}$/;
const fx = fixtures();

function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : `sha256:${crypto.createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}

const ls = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);

interface StoreView {
  /** chain ids (hex) of the layer dirs */
  layers: string[];
  /** image ids (hex) of the image records */
  images: string[];
  tmp: string[];
  tags: Record<string, string>;
}

/**
 * What the store holds, after checking that all of it is sound: every layer dir is complete
 * (meta.json naming a diffID of `allowed` images, at the chain id it is stored under, a diff dir),
 * every blob has the digest it is named by, and nothing else lies beside them.
 */
function soundStore(s: TempStore, allowed: FixtureImage[]): StoreView {
  const chains = new Map<string, string>(); // chain hex -> diffId
  for (const img of allowed) {
    const c = chainIds(img.diffIds!);
    c.forEach((id, i) => chains.set(id.slice(7), img.diffIds![i]!));
  }
  const layers = ls(path.join(s.root, 'layers')).filter((n) => n !== 'l');
  for (const name of layers) {
    assert.match(name, HEX, `unexpected entry layers/${name}`);
    assert.ok(chains.has(name), `layers/${name} is no layer of the pulled images`);
    const meta = JSON.parse(fs.readFileSync(path.join(s.root, 'layers', name, 'meta.json'), 'utf8')) as { diffId: string; chainId: string };
    assert.equal(meta.chainId, `sha256:${name}`);
    assert.equal(meta.diffId, chains.get(name));
    assert.ok(fs.statSync(path.join(s.root, 'layers', name, 'diff')).isDirectory());
    assert.ok(fs.existsSync(path.join(s.root, 'layers', 'l', name.slice(0, 20))), `layers/${name} has its short link`);
  }
  const blobs = path.join(s.root, 'blobs', 'sha256');
  for (const name of ls(blobs)) {
    assert.match(name, HEX, `unexpected entry blobs/sha256/${name}`);
    const got = crypto.createHash('sha256').update(fs.readFileSync(path.join(blobs, name))).digest('hex');
    assert.equal(got, name, `blob ${name} holds other content`);
  }
  const imageDir = path.join(s.root, 'images');
  const images: string[] = [];
  for (const name of ls(imageDir)) {
    if (name === 'repositories.json') continue;
    assert.match(name, /^[0-9a-f]{64}\.json$/, `unexpected entry images/${name}`);
    images.push(name.slice(0, 64));
  }
  const repos = path.join(imageDir, 'repositories.json');
  const tags = fs.existsSync(repos) ? (JSON.parse(fs.readFileSync(repos, 'utf8')) as Record<string, string>) : {};
  return { layers, images, tmp: ls(path.join(s.root, 'tmp')), tags };
}

async function waitFor(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The same image through the proxy: host:port/repo:tag with the proxy's address. */
const via = (addr: string, img: FixtureImage): string => `${addr}/${img.repository}:${img.tag}`;

/** "<12 hex>: <status>" lines of a pull, per layer id. */
function statuses(out: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const l of out.split('\n')) {
    const x = /^([0-9a-f]{12}): (.+)$/.exec(l);
    if (x) m.set(x[1]!, [...(m.get(x[1]!) ?? []), x[2]!]);
  }
  return m;
}

/**
 * Pull `name` through a proxy that stalls the blob of layer `layer` at `stallAt`, kill -9 the CLI
 * when `ready` says so, check the store, pull again and check it again.
 */
async function killMidPull(
  name: FixtureName,
  layer: number,
  stallAt: number,
  ready: (s: TempStore) => boolean,
  afterKill: (view: StoreView, s: TempStore) => void,
): Promise<void> {
  const img = fx.images[name];
  const proxy = await startBrokenRegistry({ mode: 'stall', digest: img.layers![layer]!.digest, stallAt });
  const s = await tempStore();
  try {
    const when = proxy.stalled.then(() => waitFor('the kill point', () => ready(s)));
    const killed = await skiff(['pull', via(proxy.addr, img)], { store: s, killWhen: when });
    assert.equal(killed.signal, 'SIGKILL', `the pull ended before the kill: ${killed.stderr}`);
    const view = soundStore(s, [img]);
    assert.deepEqual(view.images, [], 'no image record after a killed pull');
    assert.deepEqual(view.tags, {});
    const stalledChain = chainIds(img.diffIds!)[layer]!.slice(7);
    assert.ok(!view.layers.includes(stalledChain), 'the layer being pulled is not in layers/');
    assert.ok(!fs.existsSync(path.join(s.root, 'blobs', 'sha256', img.layers![layer]!.digest.slice(7))), 'its blob is not in blobs/');
    assert.ok(view.tmp.length > 0, 'the kill left staging in tmp/ (it came mid-pull)');
    afterKill(view, s);

    const again = await skiff(['pull', via(proxy.addr, img)], { store: s });
    assert.equal(again.code, 0, again.stderr);
    const after = soundStore(s, [img]);
    assert.deepEqual(after.images, [img.configDigest!.slice(7)]);
    assert.deepEqual(after.tmp, [], 'the next pull swept the leftovers');
    assert.equal(after.layers.length, img.layers!.length);
    const st = statuses(again.stdout);
    for (const l of view.layers) {
      const blob = img.layers![chainIds(img.diffIds!).findIndex((c) => c.slice(7) === l)]!.digest.slice(7, 19);
      assert.deepEqual(st.get(blob), ['Already exists'], `layer ${blob} kept from the killed pull`);
    }
  } finally {
    await proxy.close();
    await s.cleanup();
  }
}

const stagingWithFiles = (s: TempStore): boolean =>
  ls(path.join(s.root, 'tmp')).some((n) => /-layer-/.test(n) && ls(path.join(s.root, 'tmp', n, 'diff')).length > 0);

describe('pull faults', () => {
  test('kill -9 during a layer download leaves only tmp/ staging; the next pull succeeds', async () => {
    // the blob stalls half-way; the kill waits until the pull has staged something for it
    await killMidPull('multilayer', 1, 0.5, (s) => ls(path.join(s.root, 'tmp')).length > 0, () => undefined);
  });

  test('kill -9 during extraction (half the debian layer in) leaves no layer, blob or image', async () => {
    await killMidPull('debian', 0, 0.5, stagingWithFiles, (view) => assert.deepEqual(view.layers, []));
  });

  test('kill -9 after some layers: the finished ones stay complete and are reused', async () => {
    const n = fx.images.multilayer.layers!.length;
    await killMidPull('multilayer', n - 1, 0, (s) => ls(path.join(s.root, 'layers')).filter((x) => HEX.test(x)).length === n - 1,
      (view) => assert.equal(view.layers.length, n - 1));
  });

  test('rmi while a pull has made layers but no image record yet: the collection waits, the pulled image stays whole', async () => {
    const img = fx.images.multilayer;
    const n = img.layers!.length;
    const proxy = await startBrokenRegistry({ mode: 'stall', digest: img.layers![n - 1]!.digest, stallAt: 0 });
    const s = await tempStore();
    try {
      assert.equal((await skiff(['pull', '-q', fx.busybox], { store: s })).code, 0);
      const pulling = skiff(['pull', '-q', via(proxy.addr, img)], { store: s });
      await proxy.stalled;
      await waitFor('the lower layers', () => ls(path.join(s.root, 'layers')).filter((x) => HEX.test(x)).length === n - 1);
      // busybox's layer is multilayer's bottom layer, and no record names the other three yet
      const rmi = skiff(['rmi', fx.busybox], { store: s });
      // give an rmi that does not wait the time to do its damage (one that waits is held until release)
      await Promise.race([rmi, new Promise((r) => setTimeout(r, 1500))]);
      proxy.release();
      const [p, r] = await Promise.all([pulling, rmi]);
      assert.equal(p.code, 0, p.stderr);
      assert.equal(r.code, 0, r.stderr);
      const view = soundStore(s, [img, fx.images.busybox]);
      assert.deepEqual(view.images, [img.configDigest!.slice(7)]);
      assert.equal(view.layers.length, n, 'every layer of the pulled image is still there');
      for (const l of img.layers!) assert.ok(fs.existsSync(path.join(s.root, 'blobs', 'sha256', l.digest.slice(7))), `blob ${l.digest} kept`);
    } finally {
      await proxy.close();
      await s.cleanup();
    }
  });

  test('six concurrent pulls of the same and of overlapping images: all succeed, each layer extracted once', async () => {
    const names: FixtureName[] = ['multilayer', 'multilayer', 'opaque', 'opaque', 'busybox', 'benchLayers'];
    const s = await tempStore();
    try {
      const results: RunResult[] = await Promise.all(names.map((n) => skiff(['pull', fx.images[n].ref], { store: s })));
      results.forEach((r, i) => assert.equal(r.code, 0, `${names[i]}: ${r.stderr}`));
      // each layer blob id: "Pull complete" from exactly one of the pulls, "Already exists" from the others
      const complete = new Map<string, number>();
      for (const r of results) {
        for (const [id, st] of statuses(r.stdout)) {
          assert.ok(st.at(-1) === 'Pull complete' || st.at(-1) === 'Already exists', `${id}: ${st.join(', ')}`);
          if (st.at(-1) === 'Pull complete') complete.set(id, (complete.get(id) ?? 0) + 1);
        }
      }
      const unique = [...new Set(names)].map((n) => fx.images[n]);
      const blobs = new Set(unique.flatMap((img) => img.layers!.map((l) => l.digest.slice(7, 19))));
      for (const b of blobs) assert.equal(complete.get(b), 1, `layer ${b} extracted once`);
      const view = soundStore(s, unique);
      assert.deepEqual(view.tmp, [], 'no staging left after the pulls');
      assert.deepEqual(view.images.sort(), unique.map((i) => i.configDigest!.slice(7)).sort());
      assert.equal(view.layers.length, new Set(unique.flatMap((i) => chainIds(i.diffIds!))).size);
      const listed = await skiff(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'], { store: s });
      assert.deepEqual(listed.stdout.trim().split('\n').sort(), unique.map((i) => `${i.ref} ${i.configDigest!.slice(7, 19)}`).sort());
    } finally {
      await s.cleanup();
    }
  });
});
