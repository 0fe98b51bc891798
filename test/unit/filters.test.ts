/**
 * `--filter` parsing for images and image prune: `until`
 * timestamps (Go durations: duration.test.ts), reference globs with Go path.Match semantics (Docker's FamiliarMatch), label filters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SkiffError } from '../../src/errors.js';
import { labelsMatch, parseImageFilters, parseUntil, referenceMatches } from '../../src/image/filters.js';

test('until: Unix seconds, RFC 3339, or a duration before now', () => {
  const now = Date.parse('2026-01-02T00:00:00Z');
  assert.equal(parseUntil('1700000000', now), 1_700_000_000_000);
  assert.equal(parseUntil('1700000000.5', now), 1_700_000_000_500);
  assert.equal(parseUntil('2025-12-31T12:00:00Z', now), Date.parse('2025-12-31T12:00:00Z'));
  assert.equal(parseUntil('2025-12-31', now), Date.parse('2025-12-31'));
  assert.equal(parseUntil('24h', now), Date.parse('2026-01-01T00:00:00Z'));
  assert.throws(() => parseUntil('yesterday', now), (e: unknown) => e instanceof SkiffError && /invalid filter 'until=yesterday'/.test(e.message));
});

test('reference globs: * and ? stop at /, tried on name:tag then name', () => {
  assert.ok(referenceMatches('busybox', 'busybox', 'latest'));
  assert.ok(referenceMatches('busybox:latest', 'busybox', 'latest'));
  assert.ok(!referenceMatches('busybox:1', 'busybox', 'latest'));
  assert.ok(referenceMatches('busy*', 'busybox', 'latest'));
  assert.ok(referenceMatches('busybox:l?test', 'busybox', 'latest'));
  assert.ok(!referenceMatches('*', 'foo/bar', 'latest'), '* does not cross /');
  assert.ok(referenceMatches('*/*', 'foo/bar', 'latest'));
  assert.ok(referenceMatches('*/bar:*', 'foo/bar', 'latest'));
  assert.ok(referenceMatches('localhost:5000/[a-c]*', 'localhost:5000/box', '1'));
  assert.ok(!referenceMatches('localhost:5000/[!a-c]*', 'localhost:5000/box', '1'));
  assert.ok(referenceMatches('a.b', 'a.b'), 'dots are literal');
  assert.ok(!referenceMatches('a.b', 'axb'));
});

test('filters: keys, repeated keys, labels, errors in Docker words', () => {
  const f = parseImageFilters(['dangling=true', 'reference=a*', 'reference=b*', 'label=k', 'label=k2=v=w', 'before=x', 'since=y'],
    ['dangling', 'reference', 'before', 'since', 'label', 'until']);
  assert.equal(f.dangling, true);
  assert.deepEqual(f.reference, ['a*', 'b*']);
  assert.deepEqual(f.label, [{ key: 'k' }, { key: 'k2', value: 'v=w' }]);
  assert.deepEqual([f.before, f.since], [['x'], ['y']]);
  assert.ok(labelsMatch(f.label, { k: '', k2: 'v=w' }));
  assert.ok(!labelsMatch(f.label, { k: '' }));
  assert.ok(!labelsMatch(f.label, undefined));
  const err = (list: string[], re: RegExp): void =>
    assert.throws(() => parseImageFilters(list, ['dangling', 'until']), (e: unknown) => e instanceof SkiffError && re.test(e.message), list.join());
  err(['foo=bar'], /^invalid filter 'foo'$/);
  err(['dangling'], /^bad format of filter \(expected name=value\)/);
  err(['dangling=maybe'], /^invalid filter 'dangling=maybe'$/);
  err(['reference=x'], /^invalid filter 'reference'$/);
});
