/**
 * `build --cache-to/--cache-from` through the CLI binary: a build's steps written to the test
 * registry (or a local OCI layout), the store reset, and the same build taken from the cache
 * without running a RUN step; faults in the cache are warnings and the steps run. Rootful and rootless.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deadRegistry, fixtures, registry, skiff, startBrokenRegistry, tempStore, type TempStore } from '../helpers/fixtures.js';

/** Lines a RUN step printed in --progress=plain (`#N 0.012 text`). */
const runOutput = (log: string): string[] => log.split('\n').filter((l) => /^#\d+ \d+\.\d{3} /.test(l));
const cachedCount = (log: string): number => log.split('\n').filter((l) => /^#\d+ CACHED$/.test(l)).length;

interface CacheManifest {
  config: { mediaType: string; digest: string; size: number };
  layers: { digest: string; annotations: Record<string, string> }[];
}

const sha = (b: Buffer): string => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;
const layoutBlob = (dir: string, digest: string): string => path.join(dir, 'blobs', ...digest.split(':'));

/** Rewrite the cache manifest of the OCI layout at `dir`: its new blob written, index.json pointed at it. */
function editLocalCache(dir: string, edit: (m: CacheManifest) => void): void {
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string; size: number }[] };
  const m = JSON.parse(fs.readFileSync(layoutBlob(dir, index.manifests[0]!.digest), 'utf8')) as CacheManifest;
  edit(m);
  const bytes = Buffer.from(JSON.stringify(m));
  fs.writeFileSync(layoutBlob(dir, sha(bytes)), bytes);
  index.manifests[0] = { ...index.manifests[0]!, digest: sha(bytes), size: bytes.length };
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index));
}

describe('build cache across machines', () => {
  let store: TempStore;
  let busybox: string;
  const dirs: string[] = [];
  const tmp = (prefix: string): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    fs.chmodSync(d, 0o755);
    dirs.push(d);
    return d;
  };
  const sk = (args: string[]) => skiff(args, { store });
  /** A build whose image id comes back through --iidfile (-q would silence the progress log and its warnings). */
  const build = async (args: string[]): Promise<{ code: number | null; log: string; id: string }> => {
    const iid = path.join(tmp('skiff-cache-iid-'), 'id');
    const r = await sk(['build', '--progress=plain', '--iidfile', iid, ...args]);
    return { code: r.code, log: r.stderr, id: r.code === 0 ? fs.readFileSync(iid, 'utf8') : '' };
  };
  /** A two-stage context; each RUN writes a fresh random value, so a step run again changes the image id. */
  const context = (): string => {
    const dir = tmp('skiff-cache-ctx-');
    fs.writeFileSync(path.join(dir, 'f'), `file ${crypto.randomBytes(4).toString('hex')}\n`);
    fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${busybox} AS a
RUN cat /proc/sys/kernel/random/uuid | tee /a
FROM ${busybox} AS b
ENV X=1
COPY f /f
RUN cat /proc/sys/kernel/random/uuid | tee /b
COPY --from=a /a /a
`);
    return dir;
  };
  const layerDirs = (): string[] => fs.readdirSync(path.join(store.root, 'layers')).filter((n) => n !== 'l');
  const layerCount = async (image: string): Promise<number> => {
    const r = await sk(['image', 'inspect', '--format', '{{len .RootFS.Layers}}', image]);
    assert.equal(r.code, 0, r.stderr);
    return Number(r.stdout.trim());
  };
  const reset = async (): Promise<void> => {
    const r = await sk(['system', 'reset', '-f']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await sk(['images', '-q'])).stdout, '', 'the store is empty after system reset');
  };

  before(async () => {
    store = await tempStore();
    busybox = fixtures().busybox;
  });
  after(async () => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    await store.cleanup();
  });

  test('registry round trip: build --cache-to mode=max, system reset, build --cache-from: every step cached, no RUN ran, the same image id', async () => {
    const dir = context();
    const ref = `${registry()}/cache/rt-${crypto.randomBytes(4).toString('hex')}:1`;
    const first = await build(['--cache-to', `type=registry,ref=${ref},mode=max`, dir]);
    assert.equal(first.code, 0, first.log);
    const id = first.id;
    // what the registry holds, read by an independent tool: BuildKit's cache manifest (image-manifest form)
    const m = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' })) as CacheManifest;
    assert.equal(m.config.mediaType, 'application/vnd.buildkit.cacheconfig.v0');
    assert.equal(m.layers.length, 4, 'the layers of RUN a, COPY f, RUN b, COPY --from=a');
    for (const l of m.layers) assert.match(l.annotations['containerd.io/uncompressed'] ?? '', /^sha256:[0-9a-f]{64}$/);

    await reset();
    const again = await build(['-t', 'cache/rt', '--cache-from', `type=registry,ref=${ref}`, dir]);
    assert.equal(again.code, 0, again.log);
    assert.deepEqual(runOutput(again.log), [], `no RUN step ran:\n${again.log}`);
    assert.equal(cachedCount(again.log), 4, again.log);
    assert.match(again.log, new RegExp(`^importing cache manifest from ${ref.replace(/[.]/g, '\\.')}$`, 'm'));
    const inspect = await sk(['image', 'inspect', '--format', '{{.Id}}', 'cache/rt']);
    assert.equal(inspect.stdout.trim(), id, 'the same image id as the build that ran the steps');
    // stage a's layer, which only the cached COPY --from=a used, was never extracted
    assert.equal(layerDirs().length, await layerCount('cache/rt'), 'the store holds the image\'s layers only');
    const run = await sk(['run', '--rm', 'cache/rt', 'cat', '/a', '/b', '/f']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.split('\n').length, 4);

    // a bare REF is a registry cache too (buildx's --cache-from REF)
    await reset();
    const bare = await build(['--cache-from', ref, dir]);
    assert.equal(bare.code, 0, bare.log);
    assert.equal(bare.id, id);
    assert.deepEqual(runOutput(bare.log), []);

    // -q: the image id alone, as Docker; the base image's pull prints nothing either
    await reset();
    const quiet = await sk(['build', '-q', '--cache-from', ref, dir]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stdout, `${id}\n`);
    assert.equal(quiet.stderr, '');

    // a COPY --from=a the cache lacks runs: stage a's layer, taken from the cache, is made for it
    await reset();
    const df = path.join(dir, 'Dockerfile');
    fs.writeFileSync(df, fs.readFileSync(df, 'utf8').replace('COPY --from=a /a /a', 'COPY --from=a /a /a2'));
    const moved = await build(['-t', 'cache/moved', '--cache-from', ref, dir]);
    assert.equal(moved.code, 0, moved.log);
    assert.deepEqual(runOutput(moved.log), [], `no RUN step ran:\n${moved.log}`);
    assert.equal(cachedCount(moved.log), 3, moved.log);
    const a2 = await sk(['run', '--rm', 'cache/moved', 'cat', '/a2']);
    assert.equal(a2.stdout, run.stdout.split('\n')[0] + '\n', 'stage a\'s file, from its cached layer');
  });

  test('type=local: an OCI layout; mode=min keeps the target stage only (the other stage runs)', async () => {
    const dir = context();
    const out = path.join(tmp('skiff-cache-local-'), 'cache');
    const first = await build(['--cache-to', `type=local,dest=${out}`, dir]);
    assert.equal(first.code, 0, first.log);
    const index = JSON.parse(fs.readFileSync(path.join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const m = JSON.parse(fs.readFileSync(path.join(out, 'blobs', ...index.manifests[0]!.digest.split(':')), 'utf8')) as CacheManifest;
    assert.equal(m.config.mediaType, 'application/vnd.buildkit.cacheconfig.v0');
    assert.equal(m.layers.length, 3, 'mode=min: COPY f, RUN b, COPY --from=a (stage a is not in the target\'s FROM chain)');
    await reset();
    const again = await build(['--cache-from', `type=local,src=${out}`, dir]);
    assert.equal(again.code, 0, again.log);
    assert.equal(runOutput(again.log).length, 1, `stage a's RUN ran, stage b's did not:\n${again.log}`);
    assert.equal(cachedCount(again.log), 3, again.log);
    // COPY --from=a is keyed on stage a's key (its instructions), so it too came from the cache
    assert.equal(again.id, first.id);
  });

  test('faults: a damaged config blob, a damaged layer blob, a corrupt cache config, an unreachable registry: a warning each, and the steps run', async () => {
    const dir = context();
    const ref = `cache/faults-${crypto.randomBytes(4).toString('hex')}:1`;
    const first = await build(['--cache-to', `type=registry,ref=${registry()}/${ref},mode=max`, dir]);
    assert.equal(first.code, 0, first.log);
    const m = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry()}/${ref}`], { encoding: 'utf8' })) as CacheManifest;

    // the cache config's bytes differ from its digest: the whole cache is ignored
    await reset();
    const proxy = await startBrokenRegistry({ mode: 'corrupt', digest: m.config.digest });
    try {
      const r = await build(['--cache-from', `type=registry,ref=${proxy.addr}/${ref}`, dir]);
      assert.equal(r.code, 0, r.log);
      assert.match(r.log, new RegExp(`^\\[Warning\\] cache ${proxy.addr}/cache/faults-[0-9a-f]+:1 not used: .*digest`, 'm'));
      assert.equal(runOutput(r.log).length, 2, 'both RUN steps ran');
      assert.equal(cachedCount(r.log), 0);
      assert.ok(proxy.damaged.length > 0, 'the proxy damaged the config blob');
    } finally {
      await proxy.close();
    }

    // one layer's bytes differ from its digest: that step runs, the others come from the cache
    await reset();
    const layerProxy = await startBrokenRegistry({ mode: 'corrupt', digest: m.layers[0]!.digest });
    try {
      const r = await build(['--cache-from', `${layerProxy.addr}/${ref}`, dir]);
      assert.equal(r.code, 0, r.log);
      assert.match(r.log, new RegExp(`^\\[Warning\\] cache ${layerProxy.addr}/cache/faults-[0-9a-f]+:1: layer ${m.layers[0]!.digest} not used: `, 'm'));
      // the step of the damaged layer ran (whichever of the four it is); the other three came from the cache
      assert.equal(cachedCount(r.log), 3, r.log);
      assert.equal((await sk(['images', '-q'])).code, 0);
    } finally {
      await layerProxy.close();
    }

    // a cache whose digests all hold but whose config names a layer that is not there
    const local = path.join(tmp('skiff-cache-bad-'), 'cache');
    assert.equal((await build(['--cache-to', `type=local,dest=${local}`, dir])).code, 0);
    editLocalCache(local, (lm) => {
      const cfg = JSON.parse(fs.readFileSync(layoutBlob(local, lm.config.digest), 'utf8')) as { records: { results: { layer: number }[] }[] };
      for (const r of cfg.records) for (const x of r.results) x.layer = 99;
      const cfgBytes = Buffer.from(JSON.stringify(cfg));
      fs.writeFileSync(layoutBlob(local, sha(cfgBytes)), cfgBytes);
      lm.config.digest = sha(cfgBytes);
      lm.config.size = cfgBytes.length;
    });
    await reset();
    const bad = await build(['--cache-from', `type=local,src=${local}`, dir]);
    assert.equal(bad.code, 0, bad.log);
    assert.match(bad.log, /^\[Warning\] cache .* not used: cache record sha256:[0-9a-f]{64} names layer 99, which is not there$/m);
    assert.equal(cachedCount(bad.log), 0);

    // a cache whose layer claims another diffID (every digest holds): found before its step is taken, which runs
    const lying = path.join(tmp('skiff-cache-lie-'), 'cache');
    assert.equal((await build(['--cache-to', `type=local,dest=${lying}`, dir])).code, 0);
    let liar = '';
    editLocalCache(lying, (lm) => {
      liar = lm.layers[0]!.digest;
      lm.layers[0]!.annotations['containerd.io/uncompressed'] = `sha256:${'0'.repeat(64)}`;
    });
    await reset();
    const lie = await build(['--cache-from', `type=local,src=${lying}`, dir]);
    assert.equal(lie.code, 0, lie.log);
    assert.match(lie.log, new RegExp(`^\\[Warning\\] cache ${lying}: layer ${liar} not used: digest mismatch for uncompressed layer sha256:0{64}`, 'm'));
    assert.equal(cachedCount(lie.log), 2, `mode=min: stage b's three steps are in the cache, the lying one ran:\n${lie.log}`);

    // a registry that does not answer
    const dead = await deadRegistry();
    const r = await build(['--cache-from', `type=registry,ref=${dead}/cache/x:1`, dir]);
    assert.equal(r.code, 0, r.log);
    assert.match(r.log, new RegExp(`^\\[Warning\\] cache ${dead}/cache/x:1 not used: registry ${dead} is unreachable`, 'm'));
  });

  test('prefetched blobs: one blob two steps share (on other parents) serves both; what a build does not take is removed, also when it fails', async () => {
    const dir = tmp('skiff-cache-shared-');
    fs.writeFileSync(path.join(dir, 'f'), `shared ${crypto.randomBytes(4).toString('hex')}\n`);
    const stages = `FROM ${busybox} AS one
COPY f /f
FROM scratch AS two
COPY f /f
COPY --from=one /f /g
`;
    fs.writeFileSync(path.join(dir, 'Dockerfile'), stages);
    const ref = `${registry()}/cache/shared-${crypto.randomBytes(4).toString('hex')}:1`;
    const first = await build(['--cache-to', `type=registry,ref=${ref},mode=max`, dir]);
    assert.equal(first.code, 0, first.log);
    const m = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' })) as CacheManifest;
    assert.equal(m.layers.length, 2, 'COPY f makes the same blob on busybox and on scratch: one layer for both steps, and COPY --from');
    const staging = (): string[] => fs.readdirSync(path.join(store.root, 'tmp'));

    // every blob of the cache is downloaded at once; --target one takes one layer: the other is never extracted, its blob not kept
    await reset();
    const one = await build(['--target', 'one', '--cache-from', `type=registry,ref=${ref}`, dir]);
    assert.equal(one.code, 0, one.log);
    assert.equal(cachedCount(one.log), 1, one.log);
    assert.deepEqual(staging(), [], 'no prefetch staging left under tmp/');
    assert.equal(layerDirs().length, await layerCount(one.id), 'the store holds the image\'s layers only');

    // the whole build: both COPY f steps from the one blob, the same image
    await reset();
    const all = await build(['--cache-from', `type=registry,ref=${ref}`, dir]);
    assert.equal(all.code, 0, all.log);
    assert.equal(cachedCount(all.log), 3, all.log);
    assert.equal(all.id, first.id);
    assert.doesNotMatch(all.log, /Warning/);
    assert.deepEqual(staging(), []);

    // a build that fails after its cached steps: nothing of the prefetch stays
    await reset();
    fs.writeFileSync(path.join(dir, 'Dockerfile'), `${stages}FROM one\nRUN exit 3\n`);
    const failed = await build(['--cache-from', `type=registry,ref=${ref}`, dir]);
    assert.equal(failed.code, 1, failed.log);
    assert.deepEqual(staging(), [], 'no prefetch staging left under tmp/ by a failed build');
  });

  test('bad --cache-to/--cache-from values: one line, exit 125, nothing built', async () => {
    const dir = context();
    const cases: [string[], string][] = [
      [['--cache-to', 'type=gha'], 'Error: invalid --cache-to type=gha: unsupported cache type "gha": use registry or local\n'],
      [['--cache-to', 'type=local'], 'Error: invalid --cache-to type=local: type=local needs dest=DIR\n'],
      [['--cache-from', 'type=registry'], 'Error: invalid --cache-from type=registry: type=registry needs ref=REF\n'],
      [['--cache-to', `type=registry,ref=${registry()}/c:1,mode=all`], `Error: invalid --cache-to type=registry,ref=${registry()}/c:1,mode=all: mode must be min or max, not "all"\n`],
    ];
    for (const [flags, want] of cases) {
      const r = await sk(['build', '-t', 'cache/bad', ...flags, dir]);
      assert.equal(r.code, 125, r.stderr);
      assert.equal(r.stderr, want);
    }
    assert.notEqual((await sk(['image', 'inspect', 'cache/bad'])).code, 0);
  });
});
