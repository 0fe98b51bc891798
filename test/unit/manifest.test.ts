/**
 * Manifests, indexes, configs and platform selection, against the OCI image-spec's own examples
 * (/work/shared/conformance/oci-image-spec, or $SKIFF_CONFORMANCE_DIR) and upstream's negative cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../src/errors.js';
import { MT, parseDescriptor, parseImageConfig, parseManifest, type Index } from '../../src/oci/media.js';
import { hostPlatform, parsePlatform, selectPlatform } from '../../src/oci/platform.js';

/** dist/test/unit → repository root → ../shared/conformance */
import { CONFORMANCE } from '../helpers/conformance.js';
const EXAMPLES = path.join(CONFORMANCE, 'oci-image-spec/spec-examples');
const haveExamples = fs.existsSync(path.join(EXAMPLES, 'index.json'));
const skip = !haveExamples && `OCI examples not found at ${EXAMPLES} (set SKIFF_CONFORMANCE_DIR)`;
const example = (f: string): Buffer => fs.readFileSync(path.join(EXAMPLES, f));

const D = (c: string): string => `sha256:${c.repeat(64)}`;
const desc = (mediaType: string, c: string, platform?: object): object => ({ mediaType, digest: D(c), size: 100, ...(platform ? { platform } : {}) });
const buf = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
const invalid = (re: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof SkiffError, String(e));
  assert.match(e.message, re);
  assert.ok(!e.message.includes('\n'));
  return true;
};

test('every example of the OCI spec parses as what its media type says', { skip }, () => {
  const list = JSON.parse(example('index.json').toString()) as { file: string; mediatype: string; expect: string }[];
  let checked = 0;
  for (const e of list) {
    const bytes = example(e.file);
    if (e.mediatype === MT.ociManifest) {
      const p = parseManifest(bytes, e.mediatype, e.file);
      assert.equal(p.kind, 'manifest', e.file);
    } else if (e.mediatype === MT.ociIndex) {
      const p = parseManifest(bytes, e.mediatype, e.file);
      assert.equal(p.kind, 'index', e.file);
    } else if (e.mediatype === 'application/vnd.oci.descriptor.v1+json') {
      parseDescriptor(JSON.parse(bytes.toString()), e.file);
    } else if (e.mediatype === MT.ociConfig) {
      parseImageConfig(bytes, e.file);
    } else continue;
    checked++;
  }
  assert.ok(checked >= 9, `checked ${checked} examples`);
});

test('the OCI example manifest and index in detail', { skip }, () => {
  const m = parseManifest(example('04-manifest-manifest.json'), MT.ociManifest);
  assert.equal(m.kind, 'manifest');
  if (m.kind !== 'manifest') return;
  assert.equal(m.mediaType, MT.ociManifest);
  assert.equal(m.manifest.config.mediaType, MT.ociConfig);
  assert.equal(m.manifest.layers.length, 3);
  assert.equal(m.manifest.layers[2]!.size, 73109);
  assert.equal(m.manifest.subject?.size, 7682);
  assert.equal(m.manifest.annotations?.['com.example.key1'], 'value1');
  // The body's mediaType is enough without a Content-Type.
  assert.equal(parseManifest(example('04-manifest-manifest.json')).kind, 'manifest');
  const i = parseManifest(example('06-image-index-image-index.json'), 'application/json');
  assert.equal(i.kind, 'index');
  if (i.kind !== 'index') return;
  assert.equal(i.index.manifests.length, 2);
  assert.equal(selectPlatform(i.index, { os: 'linux', arch: 'amd64' }).digest,
    'sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270');
  assert.equal(selectPlatform(i.index, parsePlatform('linux/ppc64le')).size, 7143);
  assert.throws(() => selectPlatform(i.index, parsePlatform('linux/arm64')),
    invalid(/^no image found in manifest list for platform linux\/arm64 \(available: linux\/ppc64le, linux\/amd64\): choose one with --platform$/));
  // A nested index (07) or an XML blob (09) is never chosen as an image.
  const nested = parseManifest(example('07-image-index-image-index.json'), MT.ociIndex);
  if (nested.kind !== 'index') throw new Error('not an index');
  assert.throws(() => selectPlatform(nested.index, { os: 'linux', arch: 'amd64' }), /no image found/);
  const config = parseImageConfig(example('10-config-image-json.json'));
  assert.equal(config.config?.User, 'alice');
  assert.deepEqual(config.config?.Entrypoint, ['/bin/my-app-binary']);
  assert.equal(config.rootfs.diff_ids.length, 2);
});

const manifest = {
  schemaVersion: 2,
  mediaType: MT.ociManifest,
  config: desc(MT.ociConfig, 'c'),
  layers: [desc(MT.ociLayerGzip, 'a')],
};

test('Docker schema 2 manifests and lists; shape decides without any media type', () => {
  const docker = { ...manifest, mediaType: MT.dockerManifest, config: desc(MT.dockerConfig, 'c'), layers: [desc(MT.dockerLayerGzip, 'a')] };
  const p = parseManifest(buf(docker), MT.dockerManifest);
  assert.equal(p.kind, 'manifest');
  assert.equal(p.mediaType, MT.dockerManifest);
  const list = { schemaVersion: 2, mediaType: MT.dockerList, manifests: [desc(MT.dockerManifest, 'b', { os: 'linux', architecture: 'amd64' })] };
  assert.equal(parseManifest(buf(list), MT.dockerList).kind, 'index');
  const { mediaType: _m, ...bare } = manifest;
  const q = parseManifest(buf(bare), 'application/octet-stream');
  assert.equal(q.kind, 'manifest');
  assert.equal(q.mediaType, MT.ociManifest);
  assert.equal(parseManifest(buf(bare), MT.ociManifest).mediaType, MT.ociManifest);
  assert.equal(parseManifest(buf({ schemaVersion: 2, manifests: [] })).kind, 'index');
  // Images without layers exist (FROM scratch + LABEL): accepted.
  assert.equal(parseManifest(buf({ ...manifest, layers: [] })).kind, 'manifest');
});

test('invalid manifests are refused with one line naming the image', () => {
  const cases: [unknown, string | undefined, RegExp][] = [
    ['not json', undefined, /^invalid manifest for busybox:1: not valid JSON/],
    [[1, 2], undefined, /not a JSON object/],
    [{ ...manifest, schemaVersion: 3 }, undefined, /schemaVersion must be 2 \(got 3\)/],
    [{ ...manifest, schemaVersion: '2' }, undefined, /schemaVersion must be 2/],
    [{ ...manifest, config: undefined }, undefined, /config descriptor is missing/],
    [{ ...manifest, layers: undefined }, undefined, /"layers" list is missing/],
    [{ ...manifest, layers: [{ mediaType: MT.ociLayerGzip, digest: 'a'.repeat(64), size: 1 }] }, undefined, /layers\[0\]\.digest .*invalid checksum digest format/],
    [{ ...manifest, layers: [{ mediaType: MT.ociLayerGzip, digest: D('a'), size: -1 }] }, undefined, /layers\[0\]\.size must be a non-negative integer/],
    [{ ...manifest, layers: [{ mediaType: MT.ociLayerGzip, digest: D('a'), size: 1.5 }] }, undefined, /size must be a non-negative integer/],
    [{ ...manifest, layers: [{ mediaType: MT.ociLayerGzip, digest: D('a') }] }, undefined, /size must be/],
    [{ ...manifest, config: { mediaType: 'not a media type', digest: D('c'), size: 1 } }, undefined, /config\.mediaType is not a valid media type/],
    [{ ...manifest, config: { mediaType: MT.ociConfig, digest: `md5:${'a'.repeat(32)}`, size: 1 } }, undefined, /unsupported digest algorithm/],
    [{ ...manifest, annotations: { a: 1 } }, undefined, /annotations must map strings to strings/],
    [{ ...manifest, mediaType: 'application/vnd.oci.artifact.manifest.v1+json' }, undefined, /unsupported manifest media type/],
    [manifest, MT.ociIndex, /sent as "application\/vnd\.oci\.image\.index\.v1\+json" but says it is/],
    [{ ...manifest, manifests: [] }, undefined, /a manifest cannot have a "manifests" list/],
    [{ schemaVersion: 2, mediaType: MT.ociIndex }, undefined, /an index needs a "manifests" list/],
    [{ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [{ mediaType: MT.ociManifest, size: 1 }] }, undefined, /manifests\[0\]\.digest is missing/],
    [{ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [{ ...desc(MT.ociManifest, 'b'), platform: { os: 'linux' } }] }, undefined, /platform needs os and architecture/],
  ];
  for (const [doc, header, re] of cases) {
    const bytes = typeof doc === 'string' ? Buffer.from(doc) : buf(doc);
    assert.throws(() => parseManifest(bytes, header, 'busybox:1'), (e: unknown) => {
      assert.ok(e instanceof SkiffError && e.code === 'EREGISTRY', String(e));
      return invalid(re)(e);
    }, re.source);
  }
});

test('schema 1 is refused with a clear message', () => {
  const s1 = { schemaVersion: 1, name: 'library/busybox', tag: 'old', fsLayers: [], history: [], signatures: [] };
  assert.throws(() => parseManifest(buf(s1), MT.dockerSchema1Signed, 'busybox:old'),
    invalid(/^busybox:old uses Docker image manifest version 2, schema 1, which is deprecated and not supported: ask its publisher/));
  assert.throws(() => parseManifest(buf({ ...s1, schemaVersion: 2 }), MT.dockerSchema1Signed), /schema 1/);
});

test('image configs are checked', () => {
  const ok = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [D('a')] }, config: { Cmd: ['sh'], Env: null } };
  assert.equal(parseImageConfig(buf(ok)).config?.Cmd?.[0], 'sh');
  assert.throws(() => parseImageConfig(buf({ ...ok, os: undefined }), 'x'), invalid(/^invalid image config for x: architecture and os are required$/));
  assert.throws(() => parseImageConfig(buf({ ...ok, rootfs: { type: 'layers', diff_ids: ['nope'] } })), /rootfs\.diff_ids has "nope"/);
  assert.throws(() => parseImageConfig(buf({ ...ok, rootfs: { diff_ids: [] } })), /rootfs must be/);
  assert.throws(() => parseImageConfig(buf({ ...ok, config: { Cmd: 'sh' } })), /config\.Cmd must be a list of strings/);
});

const multi: Index = {
  schemaVersion: 2,
  mediaType: MT.ociIndex,
  manifests: [
    desc(MT.ociManifest, '1', { os: 'linux', architecture: 'amd64' }),
    desc(MT.ociManifest, '2', { os: 'linux', architecture: 'arm', variant: 'v6' }),
    desc(MT.ociManifest, '3', { os: 'linux', architecture: 'arm', variant: 'v7' }),
    desc(MT.ociManifest, '4', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
    desc(MT.ociManifest, '5', { os: 'windows', architecture: 'amd64' }),
    desc(MT.ociManifest, '6', { os: 'linux', architecture: 's390x' }),
    desc(MT.ociManifest, '7', { os: 'unknown', architecture: 'unknown' }),
    desc(MT.ociManifest, '8', { os: 'linux', architecture: 'amd64', variant: 'v3' }),
  ] as never,
};
const pick = (idx: Index, p: string | undefined): string => selectPlatform(idx, parsePlatform(p)).digest[7]!;

test('platform selection follows Docker/containerd rules', () => {
  assert.equal(pick(multi, 'linux/amd64'), '1');
  assert.equal(pick(multi, 'amd64'), '1');
  assert.equal(pick(multi, 'linux/x86_64'), '1');
  assert.equal(pick(multi, 'linux/amd64/v3'), '8');
  assert.equal(pick(multi, 'linux/amd64/v2'), '1');
  assert.equal(pick(multi, 'linux/arm64'), '4');
  assert.equal(pick(multi, 'linux/arm64/v8'), '4');
  assert.equal(pick(multi, 'linux/aarch64'), '4');
  assert.equal(pick(multi, 'linux/arm'), '3');
  assert.equal(pick(multi, 'linux/arm/v7'), '3');
  assert.equal(pick(multi, 'linux/arm/v6'), '2');
  assert.equal(pick(multi, 'windows/amd64'), '5');
  assert.equal(pick(multi, 'linux/s390x'), '6');
  assert.throws(() => pick(multi, 'linux/arm/v5'), invalid(/no image found in manifest list for platform linux\/arm\/v5/));
  assert.throws(() => pick(multi, 'linux/arm64/v9'), /no image found/);
  assert.throws(() => pick(multi, 'linux/riscv64'), (e: unknown) => e instanceof SkiffError && e.code === 'ENOIMAGE');
  // arm64 without a variant in the index is v8; arm v7 falls back to v6.
  const arm64bare: Index = { schemaVersion: 2, manifests: [desc(MT.dockerManifest, 'a', { os: 'linux', architecture: 'arm64' })] as never };
  assert.equal(pick(arm64bare, 'linux/arm64/v8'), 'a');
  assert.equal(pick(arm64bare, 'linux/arm64'), 'a');
  const v6only: Index = { schemaVersion: 2, manifests: [desc(MT.ociManifest, 'b', { os: 'linux', architecture: 'arm', variant: 'v6' })] as never };
  assert.equal(pick(v6only, 'linux/arm/v7'), 'b');
  // The default is the host's platform.
  assert.equal(hostPlatform().os, 'linux');
  if (process.arch === 'x64') assert.equal(selectPlatform(multi).digest[7], '1');
  assert.throws(() => parsePlatform('linux//amd64'), /invalid platform/);
  assert.throws(() => parsePlatform('a/b/c/d'), (e: unknown) => e instanceof SkiffError && e.code === 'EINVAL');
});
