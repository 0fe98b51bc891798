/**
 * The run path's fast argv parser (src/cli/fast.ts over src/cli/options.ts) against yargs, the
 * parser it stands in for: on the same argv lists, whatever the fast parser accepts must be read
 * exactly as yargs reads it (same command, option values, image and container command), and it
 * must decline (undefined: the CLI then hands the argv to yargs) whatever it is not sure about.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CommandModule } from 'yargs';
import { buildParser } from '../../src/cli/cli.js';
import { splitArgv } from '../../src/cli/argv.js';
import { parseRunArgv } from '../../src/cli/fast.js';
import { GLOBAL_OPTIONS, parseFast, valueFlags } from '../../src/cli/options.js';
import { CREATE_OPTIONS, RUN_OPTIONS } from '../../src/cli/commands/run-options.js';
import { create, run } from '../../src/cli/commands/run.js';
import { pull } from '../../src/cli/commands/image.js';
import { PULL_OPTIONS } from '../../src/cli/commands/pull-options.js';

interface Parsed {
  command: string;
  args: Record<string, unknown>;
  rest: string[];
}

/** What yargs gives run/create's handler for `argv`, the CLI's way (splitArgv, then yargs); an Error if it refuses. */
async function viaYargs(argv: string[]): Promise<Parsed | Error> {
  const { head, tail } = splitArgv(argv);
  let got: Parsed | undefined;
  const capture = (m: CommandModule, name: string): CommandModule => ({
    ...m,
    handler: (a) => {
      got = { command: name, args: a as Record<string, unknown>, rest: tail };
    },
  });
  const cmds = [capture(run, 'run'), capture(create, 'create')];
  const pulls = [capture(pull, 'pull')];
  const group: CommandModule = { command: 'container <command>', describe: 'x', builder: (y) => y.command(cmds).demandCommand(1), handler: () => undefined };
  const imageGroup: CommandModule = { command: 'image <command>', describe: 'x', builder: (y) => y.command(pulls).demandCommand(1), handler: () => undefined };
  try {
    await buildParser(head, [...cmds, ...pulls, group, imageGroup]).exitProcess(false).parseAsync();
  } catch (e) {
    return e as Error;
  }
  return got ?? new Error('no handler ran (help?)');
}

const KEYS = [...Object.keys(RUN_OPTIONS), ...Object.keys(PULL_OPTIONS), ...Object.keys(GLOBAL_OPTIONS), 'image'];
const pick = (a: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(KEYS.filter((k) => a[k] !== undefined).map((k) => [k, a[k]]));

/** argv lists the fast path must take, and read as yargs does */
const TAKEN: string[][] = [
  ['run', '--rm', 'busybox', 'true'],
  ['run', '-it', 'busybox', 'sh'],
  ['run', '-ti', '--rm', '-e', 'A=1', '-e', 'B=2', 'busybox', 'env'],
  ['run', '-e', 'A=1', 'busybox'],
  ['run', '-e', 'A', 'busybox'],
  ['run', '--env=A=1', '--name=x', 'busybox'],
  ['run', '--rm', '--', 'busybox', 'ls', '-la'],
  ['run', 'busybox', 'sh', '-c', 'echo x; exit 3'],
  ['run', '--rm', 'busybox', 'sh', '-c', 'x', '--rm', '-e', 'B=2'],
  ['run', '--rm', 'busybox', '--help'],
  ['run', '-d', '--name', 'web', 'busybox', 'sleep', '1'],
  ['run', '-itd', 'busybox'],
  ['run', '-ie', 'A=1', 'busybox'],
  ['run', '-v', '/tmp:/x:ro', '-v', '/a:/b', 'busybox'],
  ['--root', '/tmp/r', 'run', 'busybox'],
  ['--root=/tmp/r', '--runroot', '/tmp/rr', 'run', 'busybox'],
  ['run', '--root=/tmp/r', 'busybox'],
  ['container', 'run', '--rm', 'busybox', 'true'],
  ['container', 'create', '--name', 'c1', 'busybox'],
  ['create', '--name', 'c1', '-v', '/tmp:/x:ro', 'busybox', 'echo', 'hi'],
  ['run', '--net', 'host', 'busybox'],
  ['run', '--network=none', 'busybox'],
  ['run', '-u', '1000:1000', '-w', '/tmp', '-h', 'host1', 'busybox', 'id'],
  ['run', '--security-opt', 'seccomp=unconfined', '--cap-add', 'NET_ADMIN', '--cap-drop', 'ALL', 'busybox'],
  ['run', '--pull', 'never', 'busybox'],
  ['run', '--pull=always', 'busybox'],
  ['run', '--read-only', '--init', '--privileged', 'busybox'],
  ['run', '--device', '/dev/fuse', '--device=/dev/loop0:/dev/xda:r', '--device-cgroup-rule', 'c 1:3 rwm', 'busybox'],
  ['run', '--rm=false', '--init=true', 'busybox'],
  ['run', '-l', 'a=b', '--label', 'c=d', 'busybox'],
  ['run', '--entrypoint', '', 'busybox'],
  ['run', '--entrypoint=/bin/sh', 'busybox', '-c', 'id'],
  ['run', '--tmpfs', '/run', '--mount', 'type=tmpfs,target=/x', 'busybox'],
  ['run', '--env-file', '/tmp/e', '--platform', 'linux/amd64', 'busybox'],
  ['run', '--rm', '127.0.0.1:5000/busybox:latest', 'true'],
  ['pull', 'busybox'],
  ['pull', '-q', '127.0.0.1:5000/busybox:latest'],
  ['pull', '-aq', '--platform', 'linux/arm64', 'busybox'],
  ['pull', '--tls-verify=false', '--quiet', 'busybox'],
  ['--root', '/tmp/r', 'image', 'pull', '--all-tags', 'busybox'],
  ['run', '-d', '--restart', 'on-failure:3', 'busybox'],
  ['run', '-d', '--restart=always', '--log-driver', 'none', 'busybox'],
  ['run', '-d', '--log-opt', 'max-size=10m', '--log-opt=max-file=3', 'busybox'],
  ['run', '-d', '--health-cmd', 'true', '--health-interval', '1s', '--health-timeout=2s', '--health-retries', '2', '--health-start-period', '0s', 'busybox'],
  ['run', '-d', '--no-healthcheck', 'busybox'],
  ['create', '--restart', 'unless-stopped', '--health-retries=5', 'busybox'],
  ['run', '--stop-signal', 'SIGINT', '--stop-timeout', '3', 'busybox'],
  ['create', '--stop-signal=USR1', '--stop-timeout=0', 'busybox'],
];

/** argv lists the fast path must leave to yargs (help, errors, shapes it does not know) */
const DECLINED: string[][] = [
  [],
  ['images'],
  ['version'],
  ['run'],
  ['run', '--help'],
  ['run', '--rm'],
  ['run', '--bogus', 'busybox'],
  ['run', '--pull', 'bogus', 'busybox'],
  ['run', '--rm', 'true', 'busybox'],
  ['run', '-d', 'false', 'busybox'],
  ['run', '--name'],
  ['run', '--name', '-x', 'busybox'],
  ['run', '-x', 'busybox'],
  ['run', '-e'],
  ['run', '-eA=1', 'busybox'],
  ['run', '-e=A=1', 'busybox'],
  ['run', '-ei', 'A=1', 'busybox'],
  ['run', '--rm=yes', 'busybox'],
  ['run', '--health-retries', 'x', 'busybox'],
  ['run', '--no-healthcheck', 'false', 'busybox'],
  ['run', '--stop-timeout', 'soon', 'busybox'],
  ['create', '-d', 'busybox'],
  ['--root', 'a', 'run', '--root', 'b', 'busybox'],
  ['--root', 'a', '--root', 'b', 'run', 'busybox'],
  ['--bogus', 'run', 'busybox'],
  ['--', 'run', 'busybox'],
  ['container', 'ls'],
  ['exec', 'c1', 'ls'],
  ['pull'],
  ['pull', 'busybox', 'extra'],
  ['pull', '--tls-verify', 'false', 'busybox'],
  ['pull', '-t', 'busybox'],
  ['container', 'pull', 'busybox'],
  ['image', 'run', 'busybox'],
];

test('the fast parser reads every run/create/pull argv it takes exactly as yargs does', async () => {
  for (const argv of TAKEN) {
    const fast = parseRunArgv(argv);
    assert.ok(fast, `fast path declined ${JSON.stringify(argv)}`);
    const y = await viaYargs(argv);
    assert.ok(!(y instanceof Error), `yargs refused ${JSON.stringify(argv)}: ${String(y)}`);
    assert.equal(fast.command, y.command, JSON.stringify(argv));
    assert.deepEqual(pick(fast.args), pick(y.args), JSON.stringify(argv));
    assert.deepEqual(fast.rest, y.rest, JSON.stringify(argv));
  }
});

test('the fast parser leaves help, errors and unknown shapes to yargs', async () => {
  for (const argv of DECLINED) assert.equal(parseRunArgv(argv), undefined, JSON.stringify(argv));
  // and those yargs accepts it reads as yargs would had it taken them: nothing to compare, but
  // the ones that are errors must be errors in yargs too (the fast path never invents a meaning)
  for (const argv of [['run', '--bogus', 'busybox'], ['run', '--pull', 'bogus', 'busybox'], ['create', '-d', 'busybox'], ['run', '-x', 'busybox']]) {
    assert.ok((await viaYargs(argv)) instanceof Error, JSON.stringify(argv));
  }
});

test('parseFast: values, repeats, defaults, the positional and the rest', () => {
  const p = parseFast(['-it', '-e', 'A=1', '--env=B=2', '--name', 'n', 'img', '-x', '--', 'y'], CREATE_OPTIONS);
  assert.ok(p);
  assert.deepEqual(p.values.env, ['A=1', 'B=2']);
  assert.equal(p.values.interactive, true);
  assert.equal(p.values.tty, true);
  assert.equal(p.values.name, 'n');
  assert.equal(p.values.network, undefined); // no default: create picks the default network (bridge)
  // --network is repeatable (several networks), --net its alias
  assert.deepEqual(parseFast(['--network', 'a', '--net', 'b', 'img'], CREATE_OPTIONS)?.values.network, ['a', 'b']);
  assert.equal(p.values.pull, 'missing');
  assert.equal(p.positional, 'img');
  assert.deepEqual(p.rest, ['-x', '--', 'y']);
  assert.equal(parseFast(['--rm'], CREATE_OPTIONS)?.positional, undefined);
});

test('valueFlags: the options that take a value, with their aliases (what splitArgv skips)', () => {
  const v = valueFlags(RUN_OPTIONS);
  for (const f of ['name', 'env', 'e', 'volume', 'v', 'network', 'net', 'pull', 'hostname', 'h', 'restart', 'log-opt', 'health-cmd', 'health-retries', 'stop-signal', 'stop-timeout']) assert.ok(v.includes(f), f);
  for (const f of ['rm', 'i', 't', 'd', 'detach', 'interactive', 'privileged', 'no-healthcheck']) assert.ok(!v.includes(f), f);
});
