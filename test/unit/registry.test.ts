/**
 * The registry's dispatch (src/cli/registry.ts): a command line naming a registered descriptor is
 * parsed with pflag's rules and run; any other line is left to the yargs tree; a group only the
 * registry has reports its unknown verbs itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineCommand, type Command } from '../../src/cli/command.js';
import { helpOf, runRegistered } from '../../src/cli/registry.js';
import { UsageError } from '../../src/errors.js';

const seen: unknown[] = [];
const up: Command = defineCommand({
  group: 'compose',
  name: 'up',
  describe: 'Create and start containers',
  positionals: [{ name: 'service', variadic: true }],
  options: { detach: { type: 'boolean', alias: 'd', default: false, describe: 'Detached mode' }, file: { type: 'string', alias: 'f', repeat: true } },
  handler: (o, a) => {
    seen.push({ detach: o.detach, file: o.file, service: a.service });
  },
});
const YARGS = new Set(['ps', 'volume']);

test('a registered line is parsed with pflag rules and run', async () => {
  seen.length = 0;
  assert.equal(await runRegistered(['compose', 'up', '-d', 'web', '--file=b.yaml'], YARGS, [up]), true);
  assert.equal(await runRegistered(['compose', 'up', '-df', 'a.yaml', 'web', '--file=b.yaml'], YARGS, [up]), true);
  assert.deepEqual(seen, [
    { detach: true, file: ['b.yaml'], service: ['web'] },
    { detach: true, file: ['a.yaml', 'b.yaml'], service: ['web'] },
  ]);
});

test('other lines go to yargs; unknown verbs of a registry-only group are refused here', async () => {
  assert.equal(await runRegistered(['ps', '-a'], YARGS, [up]), false);
  assert.equal(await runRegistered(['volume', 'ls'], YARGS, [up]), false);
  await assert.rejects(runRegistered(['compose', 'bogus'], YARGS, [up]), (e: unknown) => e instanceof UsageError && /unknown command: skiff compose bogus/.test(e.message));
  await assert.rejects(runRegistered(['compose', 'up', '--bogus'], YARGS, [up]), (e: unknown) => e instanceof UsageError && /unknown flag: --bogus/.test(e.message));
});

test('help names the usage and the options', () => {
  const h = helpOf(up, 'compose up');
  assert.match(h, /Usage: {2}skiff compose up \[OPTIONS\] \[SERVICE\.\.\.\]/);
  assert.match(h, /-d, --detach +Detached mode/);
  assert.match(h, /-f, --file list/);
});
