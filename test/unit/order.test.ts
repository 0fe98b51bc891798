import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byteOrder } from '../../src/lib/order.js';

test('byteOrder: ISO-8601 timestamps of one format sort by time; names by code unit, as localeCompare sorts lower-case ASCII names', () => {
  const times = ['2026-12-07T10:00:00.5Z', '2025-01-31T23:59:59.9Z', '2026-12-07T09:59:59.999Z', '2026-02-01T00:00:00.0Z'];
  assert.deepEqual([...times].sort(byteOrder), [...times].sort((a, b) => Date.parse(a) - Date.parse(b)));
  const names = ['web_2', 'bridge', 'app-net', 'web.1', 'a1', 'zeta', 'app'];
  assert.deepEqual([...names].sort(byteOrder), ['a1', 'app', 'app-net', 'bridge', 'web.1', 'web_2', 'zeta']);
  assert.equal(byteOrder('x', 'x'), 0);
  assert.equal(byteOrder('B', 'a'), -1, 'code units: upper case first');
});
