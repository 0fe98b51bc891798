/**
 * pasta's options that follow from the host: --no-icmp when net.ipv4.ping_group_range lets no group
 * open ICMP echo sockets (pasta could answer no ping then; src/network/pasta.ts icmpArgs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { icmpArgs } from '../../src/network/pasta.js';

test("an empty ping_group_range (Debian's default '1 0'): pasta's ICMP half is skipped", () => {
  assert.deepEqual(icmpArgs('1\t0\n'), ['--no-icmp']);
  assert.deepEqual(icmpArgs('2147483647 0'), ['--no-icmp']);
});

test('a range holding any group, or one not read: pasta answers pings as before', () => {
  assert.deepEqual(icmpArgs('0\t2147483647\n'), []);
  assert.deepEqual(icmpArgs('1001 1001'), []);
  assert.deepEqual(icmpArgs(''), []);
  assert.deepEqual(icmpArgs('not numbers'), []);
});
