/**
 * The command line through the binary (one dispatch, src/cli/registry.ts): Docker-shaped help for skiff,
 * a group and a command (exit 0), and usage errors as one `Error:` line plus Docker's hint line with
 * Docker's exit codes (125 for a flag or value, 1 for an unknown command or a wrong argument count),
 * nothing run and nothing written to stdout.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { skiff, tempStore, type TempStore } from '../helpers/fixtures.js';

describe('command line', () => {
  let store: TempStore;
  before(async () => {
    store = await tempStore();
  });
  after(async () => store.cleanup());

  test('skiff --help, skiff GROUP, skiff CMD --help: Docker-shaped help, exit 0', async () => {
    const top = await skiff(['--help'], { store });
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /^\nUsage: {2}skiff \[OPTIONS\] COMMAND\n/);
    assert.match(top.stdout, /\nManagement Commands:\n(.*\n)* {2}container +Manage containers\n/);
    assert.match(top.stdout, /\nCommon Commands:\n {2}run +Create and run a new container from an image\n/);
    assert.match(top.stdout, /\nGlobal Options:\n/);
    const group = await skiff(['volume'], { store });
    assert.equal(group.code, 0, group.stderr);
    assert.match(group.stdout, /^\nUsage: {2}skiff volume COMMAND\n\nManage volumes\n\nCommands:\n(.*\n)* {2}ls +List volumes\n/);
    const cmd = await skiff(['run', '--help'], { store });
    assert.equal(cmd.code, 0, cmd.stderr);
    assert.match(cmd.stdout, /^\nUsage: {2}skiff run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]\n\nCreate and run a new container from an image\n/);
    assert.match(cmd.stdout, /\n {2}-e, --env list +Set environment variables/);
    const ps = await skiff(['container', 'ls', '-h'], { store });
    assert.match(ps.stdout, /^\nUsage: {2}skiff container ls \[OPTIONS\]\n\nList containers\n\nAliases:\n {2}skiff container ls, skiff container list, skiff container ps, skiff ps\n/);
  });

  test("usage errors: one Error line and Docker's hint, exit 125 for flags and values, 1 for commands and arguments", async () => {
    const cases: [string[], number, string][] = [
      [['run', '--bogus', 'busybox'], 125, "Error: unknown flag: --bogus\nSee 'skiff run --help'.\n"],
      [['ps', '-n', 'bogus'], 125, 'Error: invalid argument "bogus" for "-n, --last" flag: strconv.ParseInt: parsing "bogus": invalid syntax\nSee \'skiff ps --help\'.\n'],
      [['run', '--pull=bogus', 'busybox'], 125, `Error: invalid pull option: 'bogus': must be one of "missing", "always" or "never"\nSee 'skiff run --help'.\n`],
      [['bogus'], 1, "Error: unknown command: skiff bogus\nSee 'skiff --help'.\n"],
      [['bogus', '--help'], 1, "Error: unknown command: skiff bogus\nSee 'skiff --help'.\n"],
      [['volume', 'bogus'], 1, "Error: unknown command: skiff volume bogus\nSee 'skiff volume --help'.\n"],
      [['rm'], 1, "Error: 'skiff rm' requires at least 1 argument\nSee 'skiff rm --help'.\n"],
    ];
    for (const [args, code, stderr] of cases) {
      const r = await skiff(args, { store });
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, stderr, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
    }
  });

  test("skiff's own options before the command word: --root's value is not the command", async () => {
    const r = await skiff(['--root', store.root, 'ps', '-a', '--format', '{{.ID}}'], { store });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
  });
});
