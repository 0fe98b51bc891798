/**
 * run/create/pull command lines through the one dispatch (src/cli/registry.ts: parse.ts's findCommand
 * and parseCommand over the descriptors in COMMANDS, with the option tables of run-options.ts and
 * pull-options.ts). These argv lists were the fast path's (src/cli/fast.ts, checked against yargs until
 * the registry replaced both): each must still be read as the command it names, with the same values,
 * image and container command; the ones that were errors are errors (pflag's words now).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.js';
import { findCommand, parseCommand } from '../../src/cli/parse.js';
import { loadRegistered } from '../../src/cli/registry.js';

const REGISTERED = await loadRegistered();
const NAMED = REGISTERED.map((c) => ({ group: c.group as string, name: c.name, aliases: c.aliases ?? [], c }));

interface Parsed {
  command: string;
  options: Record<string, unknown>;
  image?: string;
  rest: string[];
}

/** What the registry hands the handler for `argv`; an Error if it refuses. 'help' for help. */
function read(argv: string[]): Parsed | Error | 'help' {
  try {
    const f = findCommand(argv, NAMED);
    if (!f.command || f.help) return 'help';
    const p = parseCommand(f.rest, f.command.c, f.invokedAs);
    if (p === 'help') return 'help';
    return { command: f.command.name, options: { ...p.options, ...(f.root.root !== undefined && p.options.root === undefined ? { root: f.root.root } : {}) }, image: p.args.image as string | undefined, rest: (p.args.command as string[] | undefined) ?? [] };
  } catch (e) {
    return e as Error;
  }
}

/** run/create/pull argv lists (taken by the old fast path, read as yargs read them): each is a command line */
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



const taken = (argv: string[]): Parsed => {
  const r = read(argv);
  assert.ok(r !== 'help' && !(r instanceof Error), `${JSON.stringify(argv)}: ${String(r)}`);
  return r;
};

test('every run/create/pull line is read as the command it names, its image and its container command', () => {
  for (const argv of TAKEN) {
    const r = taken(argv);
    const verb = argv.find((a) => ['run', 'create', 'pull'].includes(a))!;
    assert.equal(r.command, verb, JSON.stringify(argv));
    // the image is the first argument after the options; for run/create the rest is the container's, verbatim
    const i = argv.lastIndexOf(r.image!);
    assert.ok(i > argv.indexOf(verb), JSON.stringify(argv));
    assert.deepEqual(r.rest, argv.slice(i + 1), JSON.stringify(argv));
  }
});

test('values as the handlers got them: lists, the last single value, defaults, skiff\'s options before or after the command', () => {
  const p = taken(['run', '-it', '-e', 'A=1', '--env=B=2', '--name', 'n', 'img', '-x', '--', 'y']);
  assert.deepEqual(p.options.env, ['A=1', 'B=2']);
  assert.equal(p.options.interactive, true);
  assert.equal(p.options.tty, true);
  assert.equal(p.options.name, 'n');
  assert.deepEqual(p.options.network, []); // no default: create picks the default network (bridge)
  // --network is repeatable (several networks), --net its alias
  assert.deepEqual(taken(['run', '--network', 'a', '--net', 'b', 'img']).options.network, ['a', 'b']);
  assert.equal(p.options.pull, 'missing');
  assert.equal(p.image, 'img');
  assert.deepEqual(p.rest, ['-x', '--', 'y']);
  assert.deepEqual(taken(['run', '--rm', '--', 'busybox', 'ls', '-la']).rest, ['ls', '-la']);
  assert.equal(taken(['run', '--rm=false', '--init=true', 'busybox']).options.rm, false);
  assert.equal(taken(['run', '--entrypoint', '', 'busybox']).options.entrypoint, '');
  assert.equal(taken(['create', '--stop-signal=USR1', '--stop-timeout=0', 'busybox']).options['stop-timeout'], 0);
  assert.equal(taken(['run', '-d', '--health-retries', '2', 'busybox']).options['health-retries'], 2);
  assert.equal(taken(['--root', '/tmp/r', 'run', 'busybox']).options.root, '/tmp/r');
  assert.equal(taken(['run', '--root=/tmp/r', 'busybox']).options.root, '/tmp/r');
  assert.equal(taken(['pull', '--tls-verify=false', '--quiet', 'busybox']).options['tls-verify'], false);
  assert.equal(taken(['pull', '-aq', '--platform', 'linux/arm64', 'busybox']).options['all-tags'], true);
  // pflag: a single-value flag given twice keeps the last value; a value is the next argument whatever it looks like
  assert.equal(taken(['run', '--name', 'a', '--name', 'b', 'busybox']).options.name, 'b');
  assert.equal(taken(['run', '--name', '-x', 'busybox']).options.name, '-x');
  assert.deepEqual(taken(['run', '-eA=1', 'busybox']).options.env, ['A=1']);
  assert.equal(taken(['run', '-d', 'false', 'busybox']).image, 'false');
});

test('what the old fast path left to yargs: help, and errors with pflag\'s and cobra\'s words', () => {
  assert.equal(read([]), 'help');
  assert.equal(read(['run', '--help']), 'help');
  const refused: [string[], RegExp][] = [
    [['run'], /'skiff run' requires at least 1 argument/],
    [['run', '--rm'], /'skiff run' requires at least 1 argument/],
    [['run', '--bogus', 'busybox'], /^unknown flag: --bogus$/],
    [['run', '--pull', 'bogus', 'busybox'], /invalid pull option: 'bogus': must be one of "missing", "always" or "never"/],
    [['run', '--name'], /^flag needs an argument: --name$/],
    [['run', '-x', 'busybox'], /^unknown shorthand flag: 'x' in -x$/],
    [['run', '-e'], /^flag needs an argument: 'e' in -e$/],
    [['run', '--rm=yes', 'busybox'], /invalid argument "yes" for "--rm" flag/],
    [['run', '--health-retries', 'x', 'busybox'], /invalid argument "x" for "--health-retries" flag: strconv.ParseInt/],
    [['run', '--stop-timeout', 'soon', 'busybox'], /invalid argument "soon" for "--stop-timeout" flag/],
    [['create', '-d', 'busybox'], /^unknown shorthand flag: 'd' in -d$/],
    [['--bogus', 'run', 'busybox'], /^unknown flag: --bogus$/],
    [['pull'], /'skiff pull' requires 1 argument/],
    [['pull', 'busybox', 'extra'], /'skiff pull' requires 1 argument/],
    [['pull', '-t', 'busybox'], /^unknown shorthand flag: 't' in -t$/],
    [['container', 'pull', 'busybox'], /unknown command: skiff container pull/],
    [['image', 'run', 'busybox'], /unknown command: skiff image run/],
  ];
  for (const [argv, re] of refused) {
    const r = read(argv);
    assert.ok(r instanceof UsageError, `${JSON.stringify(argv)}: ${JSON.stringify(r)}`);
    assert.match(r.message, re, JSON.stringify(argv));
  }
  // lines that were yargs' to read are other commands, or valid pflag lines
  assert.equal((taken(['container', 'ls']) as Parsed).command, 'ls');
  assert.deepEqual(taken(['exec', 'c1', 'ls']).rest, ['ls']);
});
