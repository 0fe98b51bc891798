/** Go durations (src/lib/duration.ts): time.ParseDuration's cases and words, Duration.String(). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoDuration, parseDurationNs, parseGoDuration } from '../../src/lib/duration.js';

test('Go durations', () => {
  const cases: [string, number | undefined][] = [
    ['0', 0], ['5s', 5000], ['30m', 1_800_000], ['24h', 86_400_000], ['1h30m', 5_400_000], ['1.5h', 5_400_000],
    ['100ms', 100], ['1500\u00b5s', 1.5], ['2us', 0.002], ['-1h', -3_600_000], ['2h45m30s', 9_930_000], ['1d', undefined], ['', undefined], ['h', undefined], ['10', undefined],
  ];
  for (const [s, want] of cases) assert.equal(parseGoDuration(s), want, s);
});

test("Go's words for what is not a duration", () => {
  assert.equal(parseDurationNs('1m30s'), 90e9);
  assert.equal(parseDurationNs('3\u03bcs'), 3000); // Greek mu, as Go accepts
  assert.throws(() => parseDurationNs('abc'), { message: 'time: invalid duration "abc"' });
  assert.throws(() => parseDurationNs('10'), { message: 'time: missing unit in duration "10"' });
  assert.throws(() => parseDurationNs('1d'), { message: 'time: unknown unit "d" in duration "1d"' });
  assert.throws(() => parseDurationNs(''), { message: 'time: invalid duration ""' });
});

test('Duration.String()', () => {
  const cases: [number, string][] = [[0, '0s'], [90_000, '1m30s'], [500, '500ms'], [0.0015, '1.5\u00b5s'], [3_600_000, '1h0m0s'], [-1500, '-1.5s']];
  for (const [ms, want] of cases) assert.equal(formatGoDuration(ms), want, String(ms));
});
