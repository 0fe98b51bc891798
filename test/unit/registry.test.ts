/**
 * The registry (src/cli/registry.ts): the one dispatch (a command line is found, parsed with pflag's
 * rules and run; anything else is cobra's "unknown command"), the help made from the descriptors, and
 * every registered descriptor's table sane (unique command lines, one shorthand per option letter,
 * passthrough commands with a positional to stop at, the groups' help lists).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandLine, defineCommand, GROUPS, type Command } from '../../src/cli/command.js';
import { aliasesOf } from '../../src/cli/option-index.js';
import { COMMANDS, groupHelp, helpOf, loadRegistered, runRegistered, topHelp } from '../../src/cli/registry.js';
import { UsageError } from '../../src/errors.js';

const REGISTERED = await loadRegistered();

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

test('a registered line is parsed with pflag rules and run', async () => {
  seen.length = 0;
  await runRegistered(['compose', 'up', '-d', 'web', '--file=b.yaml'], [up]);
  await runRegistered(['compose', 'up', '-df', 'a.yaml', 'web', '--file=b.yaml'], [up]);
  assert.deepEqual(seen, [
    { detach: true, file: ['b.yaml'], service: ['web'] },
    { detach: true, file: ['a.yaml', 'b.yaml'], service: ['web'] },
  ]);
});

test('any other line is an unknown command; unknown flags are refused before the handler runs', async () => {
  seen.length = 0;
  await assert.rejects(runRegistered(['ps', '-a'], [up]), (e: unknown) => e instanceof UsageError && e.message === 'unknown command: skiff ps');
  await assert.rejects(runRegistered(['compose', 'bogus'], [up]), (e: unknown) => e instanceof UsageError && /unknown command: skiff compose bogus/.test(e.message));
  await assert.rejects(runRegistered(['compose', 'up', '--bogus'], [up]), (e: unknown) => e instanceof UsageError && /unknown flag: --bogus/.test(e.message) && e.line === 'compose up');
  await assert.rejects(runRegistered(['bogus', '--help'], [up]), (e: unknown) => e instanceof UsageError && e.message === 'unknown command: skiff bogus');
  assert.deepEqual(seen, []);
});

test('help names the usage, the aliases and the options', () => {
  const h = helpOf(up, 'compose up');
  assert.match(h, /Usage: {2}skiff compose up \[OPTIONS\] \[SERVICE\.\.\.\]/);
  assert.match(h, /-d, --detach +Detached mode/);
  assert.match(h, /-f, --file list/);
  const ls = REGISTERED.find((c) => c.group === 'container' && c.name === 'ls')!;
  assert.match(helpOf(ls, 'ps'), /Aliases:\n {2}skiff container ls, skiff container list, skiff container ps, skiff ps\n/);
});

test("the top-level help lists common, management and other commands as Docker's does; a group lists its verbs", () => {
  const h = topHelp(REGISTERED);
  assert.match(h, /^\nUsage: {2}skiff \[OPTIONS\] COMMAND\n/);
  const section = (name: string): string => h.split(`\n${name}:\n`)[1]!.split('\n\n')[0]!;
  assert.match(section('Common Commands'), /^ {2}run +Create and run a new container from an image$/m);
  assert.match(section('Management Commands'), /^ {2}container +Manage containers$/m);
  assert.match(section('Commands'), /^ {2}attach +Attach local standard input/m);
  assert.doesNotMatch(section('Commands'), /^ {2}run /m);
  assert.match(section('Global Options'), /--root string/);
  assert.match(h, /Run 'skiff COMMAND --help' for more information on a command\.\n$/);
  const g = groupHelp('container', REGISTERED);
  assert.match(g, /^\nUsage: {2}skiff container COMMAND\n\nManage containers\n\nCommands:\n/);
  assert.match(g, /^ {2}ls +List containers$/m);
  assert.match(groupHelp('buildx', REGISTERED), /^ {2}build +Build an image from a Dockerfile$/m);
});

test('every registered descriptor: unique command lines, sane option tables', () => {
  const lines = new Map<string, string>();
  for (const c of REGISTERED) {
    const id = commandLine(c);
    assert.ok(Object.hasOwn(GROUPS, c.group), `${id}: unknown group`);
    assert.match(c.name, /^[a-z][a-z-]*$/, id);
    assert.ok(c.describe.length > 0, `${id}: no description`);
    for (const l of [id, ...(c.aliases ?? [])]) {
      assert.ok(!lines.has(l), `${l}: both ${lines.get(l)} and ${id}`);
      assert.match(l, /^[a-z]+( [a-z-]+)?$/, `${id}: line ${l}`);
      lines.set(l, id);
    }
    const names = new Map<string, string>();
    for (const [k, o] of Object.entries(c.options)) {
      assert.match(k, /^[a-z][a-zA-Z0-9-]+$/, `${id}: --${k}`); // compose's --no-TTY is Docker's spelling
      for (const n of [k, ...aliasesOf(o)]) {
        assert.ok(!names.has(n), `${id}: ${n} is both --${names.get(n)} and --${k}`);
        assert.ok(!['help', 'root', 'runroot'].includes(n), `${id}: --${n} is skiff's own`);
        names.set(n, k);
      }
      assert.ok(aliasesOf(o).filter((a) => a.length === 1).length <= 1, `${id}: --${k} has two shorthands`);
      if (o.choices && o.default !== undefined) assert.ok(o.choices.includes(String(o.default)), `${id}: --${k} default not a choice`);
      if (o.type === 'boolean') assert.ok(!o.repeat && !o.choices, `${id}: --${k}`);
    }
    const pos = c.positionals;
    if (c.passthrough) assert.ok(pos.length >= 1 && pos.at(-1)!.variadic, `${id}: passthrough needs a positional and a variadic rest`);
    pos.forEach((p, i) => {
      if (p.variadic) assert.equal(i, pos.length - 1, `${id}: only the last positional may be variadic`);
      if (p.required && i > 0) assert.ok(pos[i - 1]!.required, `${id}: a required positional after an optional one`);
    });
  }
  // Docker's top-level shortcuts are there
  for (const l of ['ps', 'images', 'rmi', 'rm', 'run', 'create', 'exec', 'pull', 'push', 'build', 'buildx build', 'logs', 'inspect', 'version']) assert.ok(lines.has(l), l);
  // every group of a registered command has help with at least one verb
  for (const g of new Set(REGISTERED.map((c) => c.group).filter((g) => g !== 'top'))) assert.match(groupHelp(g, REGISTERED), /Commands:\n {2}[a-z]/);
});

test('the rootless re-exec is decided by the descriptors (the old hand-kept list, userns.ts)', () => {
  const userns = new Set(REGISTERED.filter((c) => c.userns).map(commandLine));
  for (const l of ['image pull', 'image load', 'image rm', 'image build', 'image push', 'image save', 'image prune', 'container rm', 'container prune', 'container commit', 'volume rm', 'volume prune', 'system reset']) {
    assert.ok(userns.has(l), l);
  }
  // the Engine API's service stays outside, as run/exec, and hands store work to a worker (api/workers.ts)
  for (const l of ['container ls', 'container run', 'container logs', 'image ls', 'network create', 'volume create', 'version', 'system service']) assert.ok(!userns.has(l), l);
});

test("the launcher trains its code cache for the descriptors marked codeCache (bin/skiff.cjs's word list)", async () => {
  const fs = await import('node:fs');
  const src = fs.readFileSync(new URL('../../../bin/skiff.cjs', import.meta.url), 'utf8');
  const words = JSON.parse(/const trains = (\[[^\]]*\])\.includes\(word\)/.exec(src)![1]!.replace(/'/g, '"')) as string[];
  const marked = REGISTERED.filter((c) => c.codeCache).flatMap((c) => (c.aliases ?? []).filter((l) => !l.includes(' ')));
  assert.deepEqual([...words].sort(), [...marked].sort());
});

test('the index (COMMANDS) names each descriptor by its own words: group, verb, aliases; sorted; one per command file', async () => {
  const fs = await import('node:fs');
  const files = fs
    .readdirSync(new URL('../../src/cli/commands/', import.meta.url), { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.js') && (fs.readFileSync(`${d.parentPath}/${d.name}`, 'utf8').includes('defineCommand(')))
    .map((d) => `${d.parentPath.split('/').at(-1)}/${d.name.replace(/\.js$/, '')}`);
  const lines = COMMANDS.map((e) => `${e.group}/${e.name}`);
  assert.deepEqual(lines, [...lines].sort(), 'COMMANDS sorted by group, then verb');
  assert.deepEqual([...files].sort(), [...lines].sort(), 'a command file without an entry in COMMANDS, or the other way round');
  COMMANDS.forEach((e, i) => {
    const c = REGISTERED[i]!;
    assert.deepEqual([c.group, c.name, c.aliases ?? []], [e.group, e.name, e.aliases ?? []], `COMMANDS entry ${e.group} ${e.name}: the descriptor's words differ`);
  });
});
