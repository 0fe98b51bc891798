/**
 * Output like Docker's: `pull`'s plain lines when piped (checked line by line against the digests
 * skopeo sees), `-q`, `-a`; `images` filters (dangling, reference globs, before/since against the
 * created times skopeo reports, label), `--digests`, `--no-trunc`; `inspect --format json`;
 * `image prune -a --filter until=/label=`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtures, skiff, skopeoInspect, tempStore, type FixtureName, type TempStore } from '../helpers/fixtures.js';

const fx = fixtures();
const shortId = (n: FixtureName): string => fx.images[n].configDigest!.slice(7, 19);

async function ok(args: string[], store: TempStore): Promise<string> {
  const r = await skiff(args, { store });
  assert.equal(r.code, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('images output', () => {
  let store: TempStore;
  before(async () => {
    store = await tempStore();
  });
  after(async () => store.cleanup());

  test('pull, piped: Docker\'s plain lines in order; again: "Image is up to date" and no layer lines', async () => {
    const img = fx.images.busybox;
    const id = img.layers![0]!.digest.slice(7, 19);
    const out = (await ok(['pull', img.ref], store)).trimEnd().split('\n');
    assert.deepEqual(out, [
      'latest: Pulling from busybox',
      `${id}: Pulling fs layer`,
      `${id}: Verifying Checksum`,
      `${id}: Download complete`,
      `${id}: Pull complete`,
      `Digest: ${img.digest}`,
      `Status: Downloaded newer image for ${img.ref}`,
      img.ref,
    ]);
    const again = (await ok(['pull', img.ref], store)).trimEnd().split('\n');
    assert.deepEqual(again, ['latest: Pulling from busybox', `Digest: ${img.digest}`, `Status: Image is up to date for ${img.ref}`, img.ref]);
    // the same image under another name: nothing downloaded, but the name is new
    const other = fx.images.otherBusybox;
    const named = (await ok(['pull', other.ref], store)).trimEnd().split('\n');
    assert.equal(named.at(-2), `Status: Downloaded newer image for ${other.ref}`);
    const untagged = (await ok(['pull', img.ref.replace(/:latest$/, '')], store)).trimEnd().split('\n');
    assert.equal(untagged[0], 'Using default tag: latest');
    assert.equal(untagged.at(-1), img.ref);
    assert.equal(await ok(['pull', '-q', img.ref], store), `${img.ref}\n`);
  });

  test('pull -a pulls every tag of the repository and prints the repository', async () => {
    const repo = `${fx.registry}/busybox`;
    const out = await ok(['pull', '-a', repo], store);
    assert.equal(out.trimEnd().split('\n').at(-1), repo);
    assert.match(out, /^v2s2: Pulling from busybox$/m);
    const tags = await ok(['images', '--format', '{{.Tag}}', repo], store);
    assert.deepEqual(tags.trim().split('\n').sort(), ['latest', 'v2s2']);
    const bad = await skiff(['pull', '-a', `${repo}:latest`], { store });
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: tag can't be used with --all-tags\/-a$/m);
  });

  test('images: dangling, reference globs, before/since, label filters; --digests, --no-trunc, -q', async () => {
    await ok(['pull', '-q', fx.multilayer], store);
    await ok(['pull', '-q', fx.opaque], store);
    await ok(['pull', '-q', fx.debian], store);
    // opaque's only tag moves to busybox: opaque becomes dangling
    await ok(['tag', fx.busybox, fx.opaque], store);
    const q = async (...filters: string[]): Promise<string[]> =>
      [...new Set((await ok(['images', '-q', ...filters.flatMap((f) => ['--filter', f])], store)).trim().split('\n').filter(Boolean))].sort();
    assert.deepEqual(await q('dangling=true'), [shortId('opaque')]);
    assert.deepEqual(await q('dangling=false'), [shortId('busybox'), shortId('debian'), shortId('multilayer')].sort());
    assert.deepEqual(await q(`reference=${fx.registry}/multi*`), [shortId('multilayer')]);
    assert.deepEqual(await q('reference=*/debian:bookworm'), [shortId('debian')]);
    assert.deepEqual(await q('reference=*/busybox:v2s2', 'reference=*/debian'), [shortId('busybox'), shortId('debian')].sort());
    assert.deepEqual(await q('reference=busybox'), [], 'a glob does not cross the registry part');
    assert.deepEqual(await q('label=org.skiff.fixture=multilayer'), [shortId('multilayer')]);
    assert.deepEqual(await q('label=io.buildah.version', 'dangling=false'), [shortId('debian')]);
    // before/since by the created times skopeo reports
    const created = Object.fromEntries((['busybox', 'multilayer', 'opaque', 'debian'] as FixtureName[])
      .map((n) => [n, Date.parse((skopeoInspect(fx.images[n].ref) as { Created: string }).Created)]));
    // opaque's tag now points at busybox in our store, but the registry still has opaque there
    const expect = (cmp: (t: number) => boolean): string[] =>
      Object.entries(created).filter(([, t]) => cmp(t)).map(([n]) => shortId(n as FixtureName)).sort();
    assert.deepEqual(await q(`since=${fx.multilayer}`), expect((t) => t > created.multilayer!));
    assert.deepEqual(await q(`before=${fx.multilayer}`), expect((t) => t < created.multilayer!));
    const bad = await skiff(['images', '--filter', 'color=red'], { store });
    assert.equal(bad.code, 125);
    assert.equal(bad.stderr, "Error: invalid filter 'color'\n");
    const digests = await ok(['images', '--digests', fx.debian], store);
    assert.match(digests.split('\n')[0]!, /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.ok(digests.split('\n')[1]!.includes(fx.images.debian.digest), digests);
    const full = await ok(['images', '--no-trunc', '-q', fx.debian], store);
    assert.equal(full, `${fx.images.debian.configDigest}\n`);
  });

  test('inspect --format json prints the same JSON array as the default', async () => {
    const plain = JSON.parse(await ok(['image', 'inspect', fx.multilayer], store)) as { Id: string }[];
    const json = JSON.parse(await ok(['image', 'inspect', '--format', 'json', fx.multilayer], store)) as { Id: string }[];
    assert.deepEqual(json, plain);
    assert.equal(json[0]!.Id, fx.images.multilayer.configDigest);
  });

  test('image prune -a --filter until= and label= narrow what goes', async () => {
    const ids = async (): Promise<string[]> => [...new Set((await ok(['images', '-q'], store)).trim().split('\n'))].sort();
    const all = await ids();
    const none = await ok(['image', 'prune', '-a', '-f', '--filter', 'until=1970-01-02T00:00:00Z'], store);
    assert.equal(none, 'Total reclaimed space: 0B\n');
    assert.deepEqual(await ids(), all);
    const one = await ok(['image', 'prune', '-a', '-f', '--filter', 'label=org.skiff.fixture=multilayer'], store);
    assert.match(one, new RegExp(`^deleted: ${fx.images.multilayer.configDigest}$`, 'm'));
    assert.deepEqual(await ids(), all.filter((i) => i !== shortId('multilayer')));
    const dangling = await ok(['image', 'prune', '-f', '--filter', 'until=0s'], store);
    assert.match(dangling, new RegExp(`^deleted: ${fx.images.opaque.configDigest}$`, 'm'));
    const bad = await skiff(['image', 'prune', '-f', '--filter', 'reference=x'], { store });
    assert.equal(bad.stderr, "Error: invalid filter 'reference'\n");
  });
});
