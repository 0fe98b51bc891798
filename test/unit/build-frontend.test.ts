/** The parsers and matchers behind --build-context, COPY --parents, bare --cache-from and classic image caches. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { matchSources } from '../../src/builder/context.js';
import { ImageCache } from '../../src/builder/image-cache.js';
import { contextName, parseBuildContexts } from '../../src/builder/named-contexts.js';
import { parseCacheSpec } from '../../src/builder/remote-cache.js';
import { ContextTree } from '../../src/builder/tree.js';
import type { ImageRecord } from '../../src/store/images.js';

test('--build-context: names normalised as BuildKit does; directory or docker-image://; the rest refused', () => {
  const m = parseBuildContexts(['docs=./d', 'alpine:latest=docker-image://busybox:1', 'docker.io/library/x=docker-image://y@sha256:' + 'a'.repeat(64), 'docs=/abs']);
  assert.deepEqual([...m.keys()], ['docs', 'alpine', 'x']);
  assert.deepEqual(m.get('docs'), { name: 'docs', kind: 'dir', dir: '/abs' }, 'the last value of a name wins');
  assert.deepEqual(m.get('alpine'), { name: 'alpine', kind: 'image', ref: 'busybox:1' });
  assert.equal(contextName('docker.io/library/alpine:latest'), 'alpine');
  assert.equal(contextName('alpine:3'), 'alpine:3');
  assert.equal(contextName('localhost:5000/a/b'), 'localhost:5000/a/b');
  assert.equal(contextName('Not-A-Ref'), undefined);
  for (const [v, re] of [
    ['docs', /^SkiffError: invalid context value: docs, expected key=value$/],
    ['docs=', /^SkiffError: invalid context value: docs=, expected key=value$/],
    ['Up=/x', /^SkiffError: invalid context name Up: /],
    ['d=https://h/x.tar', /^SkiffError: invalid context d=https:\/\/h\/x\.tar: skiff supports a local directory or docker-image:\/\/REF/],
    ['d=git@github.com:a/b', /skiff supports/],
    ['d=target:other', /skiff supports/],
    ['d=oci-layout://dir', /skiff supports/],
    ['d=docker-image://Bad', /^SkiffError: invalid context d: /],
  ] as const) assert.throws(() => parseBuildContexts([v]), re, v);
});

test('COPY --parents sources: the ./ pivot, ** across directories, plain wildcards', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-unit-parents-'));
  try {
    for (const f of ['x/y/a.txt', 'x/z/a.txt', 'x/y/deep/b.txt', 'top.txt']) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), f);
    }
    const t = new ContextTree(dir);
    const keep = (src: string): string[] => matchSources(t, src, true).map((s) => s.keep!).sort();
    assert.deepEqual(keep('x/*/a.txt'), ['x/y/a.txt', 'x/z/a.txt']);
    assert.deepEqual(keep('./x/./y/a.txt'), ['y/a.txt']);
    assert.deepEqual(keep('x/./**/*.txt'), ['y/a.txt', 'y/deep/b.txt', 'z/a.txt']);
    assert.deepEqual(keep('**/b.txt'), ['x/y/deep/b.txt']);
    assert.deepEqual(keep('top.txt'), ['top.txt']);
    assert.throws(() => matchSources(t, '**/none.txt', true), /no source files were specified/);
    assert.equal(matchSources(t, 'x/*/a.txt')[0]!.keep, undefined, 'without --parents nothing is kept');
    t.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a bare --cache-from REF is a registry cache or an image; a bad REF is refused', () => {
  assert.deepEqual(parseCacheSpec('localhost:5000/app:1', 'from'), { type: 'registry', ref: 'localhost:5000/app:1', mode: 'min', ignoreError: false, bare: true });
  assert.equal((parseCacheSpec('type=registry,ref=localhost:5000/c', 'from') as { bare?: boolean }).bare, undefined);
  assert.throws(() => parseCacheSpec('app/Upper', 'from'), /^SkiffError: invalid --cache-from app\/Upper: /);
});

test('image cache: a step matches on the history so far, the layers so far and created_by', () => {
  const d = (n: number): string => `sha256:${String(n).repeat(64).slice(0, 64)}`;
  const record = { id: 'sha256:img', created: '2026-01-01T00:00:00Z', layers: [{ chainId: d(1), diffId: d(1) }, { chainId: d(2), diffId: d(2) }] } as unknown as ImageRecord;
  const history = [
    { created: 't0', created_by: 'base' },
    { created: 't1', created_by: 'ENV A=1', empty_layer: true },
    { created: 't2', created_by: 'RUN make # buildkit' },
  ];
  const c = new ImageCache([{ record, config: { architecture: 'amd64', os: 'linux', history, rootfs: { type: 'layers', diff_ids: [d(1), d(2)] } } }]);
  assert.deepEqual(c.match(history.slice(0, 1), [d(1)], 'ENV A=1'), { created: 't1', image: 'sha256:img' });
  assert.deepEqual(c.match(history.slice(0, 2), [d(1)], 'RUN make # buildkit'), { created: 't2', layer: record.layers[1], image: 'sha256:img' });
  assert.equal(c.match(history.slice(0, 2), [d(1)], 'RUN other # buildkit'), undefined, 'another instruction');
  assert.equal(c.match(history.slice(0, 1), [d(1)], 'ENV A=2'), undefined, 'another value');
  assert.equal(c.match(history.slice(0, 2), [d(3)], 'RUN make # buildkit'), undefined, 'another base layer');
  assert.equal(c.match([{ created_by: 'other base' }, history[1]!], [d(1)], 'RUN make # buildkit'), undefined, 'another history');
  assert.equal(c.match(history, [d(1), d(2)], 'anything'), undefined, 'past the end');
});
