import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventLine, eventMatches, eventMessage, MAX_EVENT_LINE, parseEventFilters, parseEventLine } from '../../src/store/events.js';
import { fixedNanoLocal } from '../../src/cli/commands/system/events.js';
import { SkiffError } from '../../src/errors.js';

test('an event line round-trips with every digit of timeNano, Docker\'s deprecated fields for containers only', () => {
  const m = eventMessage('container', 'die', 'abc', { image: 'busybox', name: 'c1', exitCode: '3' });
  assert.equal(m.status, 'die');
  assert.equal(m.id, 'abc');
  assert.equal(m.from, 'busybox');
  const line = eventLine(m);
  assert.ok(line.endsWith('\n'));
  assert.match(line, new RegExp(`"timeNano":${m.timeNano}}`));
  assert.deepEqual(parseEventLine(line), m);
  assert.equal(m.time, Number(m.timeNano / 1_000_000_000n));
  const v = eventMessage('volume', 'create', 'v1', { driver: 'local' });
  assert.equal(v.status, undefined);
  assert.equal(v.from, undefined);
  assert.equal(parseEventLine('{"Type":"container"'), undefined, 'a torn line is skipped');
  assert.equal(parseEventLine('not json'), undefined);
});

test('a line stays under PIPE_BUF: labels go first, then long values are cut', () => {
  const labels = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`label.${i}`, 'x'.repeat(100)]));
  const m = eventMessage('container', 'create', 'id1', { ...labels, image: 'busybox', name: 'c' });
  const line = eventLine(m);
  assert.ok(Buffer.byteLength(line) < MAX_EVENT_LINE);
  assert.deepEqual(parseEventLine(line)!.Actor.Attributes, { image: 'busybox', name: 'c' });
  const huge = eventLine(eventMessage('image', 'pull', 'r'.repeat(10_000), { name: 'n'.repeat(10_000) }));
  assert.ok(Buffer.byteLength(huge) < MAX_EVENT_LINE);
});

test('filters: one key\'s values ORed, keys ANDed; Docker\'s words for bad ones', () => {
  const c = eventMessage('container', 'start', 'abcdef0123', { image: 'docker.io/library/busybox:latest', name: 'web', tier: 'front' });
  const i = eventMessage('image', 'tag', 'sha256:1', { name: 'busybox:1.36' });
  const f = (...l: string[]) => parseEventFilters(l);
  assert.ok(eventMatches(f('type=container', 'event=stop', 'event=start'), c));
  assert.ok(!eventMatches(f('type=container', 'event=stop'), c));
  assert.ok(eventMatches(f('container=web'), c));
  assert.ok(eventMatches(f('container=abcdef'), c), 'an id prefix');
  assert.ok(!eventMatches(f('container=web'), i));
  assert.ok(eventMatches(f('image=busybox'), c), 'normalised reference');
  assert.ok(eventMatches(f('image=busybox:latest'), c));
  assert.ok(!eventMatches(f('image=busybox:1.36'), c));
  assert.ok(eventMatches(f('image=busybox'), i), 'no tag: any tag');
  assert.ok(eventMatches(f('label=tier'), c));
  assert.ok(eventMatches(f('label=tier=front'), c));
  assert.ok(!eventMatches(f('label=tier=back'), c));
  assert.throws(() => f('colour=red'), (e: unknown) => e instanceof SkiffError && e.message === "invalid filter 'colour'");
  assert.throws(() => f('type'), /bad format of filter \(expected name=value\)/);
});

test('the default line\'s time: RFC3339 with a fixed 9-digit fraction', () => {
  const prev = process.env.TZ;
  process.env.TZ = 'UTC';
  try {
    assert.equal(fixedNanoLocal(1_765_051_200_000_000_005n), '2025-12-06T20:00:00.000000005Z');
  } finally {
    if (prev === undefined) delete process.env.TZ;
    else process.env.TZ = prev;
  }
});
