/**
 * The command-line parser of the registry (src/cli/parse.ts) against pflag's and cobra's rules
 * (issue 16): the last value of a single-value flag wins, lists keep every value, unknown flags and
 * missing values fail with pflag's words, values are checked with the offending value named, options
 * end at the first positional for passthrough commands, and the command word is found after skiff's
 * own options (`skiff --root /r run` is `run`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.js';
import { findCommand, parseCommand, usageOf, withoutOptions, type Parseable } from '../../src/cli/parse.js';
import { systemdQuote } from '../../src/container/systemd-unit.js';
import type { OptionTable } from '../../src/cli/command.js';

const OPTS = {
  name: { type: 'string' },
  env: { type: 'string', alias: 'e', repeat: true },
  interactive: { type: 'boolean', alias: 'i', default: false },
  tty: { type: 'boolean', alias: 't', default: false },
  last: { type: 'int', alias: 'n' },
  pull: { type: 'string', choices: ['missing', 'always', 'never'], default: 'missing' },
  'stop-timeout': { type: 'int' },
  'health-interval': { type: 'string', format: 'duration' },
  'shm-size': { type: 'string', format: 'size' },
  hostname: { type: 'string', alias: 'h' },
  attach: { type: 'string', alias: 'a', repeat: true, format: 'stream' },
} as const satisfies OptionTable;

const RUN: Parseable = { options: OPTS, positionals: [{ name: 'image', required: true }, { name: 'command', variadic: true }], passthrough: true };
const RM: Parseable = { options: OPTS, positionals: [{ name: 'container', required: true, variadic: true }] };

const parse = (args: string[], c: Parseable = RUN) => {
  const r = parseCommand(args, c, 'run');
  assert.notEqual(r, 'help');
  return r as Exclude<typeof r, 'help'>;
};
function refused(args: string[], message: string, code: number, c: Parseable = RUN): void {
  assert.throws(() => parseCommand(args, c, 'run'), (e: unknown) => {
    assert.ok(e instanceof UsageError, String(e));
    assert.equal(e.message, message);
    assert.equal(e.exitCode, code);
    return true;
  });
}

test('a single-value flag given twice keeps the last value; a list keeps all, in order', () => {
  const r = parse(['--name', 'a', '--name', 'b', '-e', 'A=1', '--env=B=2', '-eC=3', 'img']);
  assert.equal(r.options.name, 'b');
  assert.deepEqual(r.options.env, ['A=1', 'B=2', 'C=3']);
  assert.equal(r.args.image, 'img');
});

test('defaults fill what was not given; booleans take no separate value but accept =false', () => {
  const r = parse(['-it', '--tty=false', 'img']);
  assert.equal(r.options.interactive, true);
  assert.equal(r.options.tty, false);
  assert.equal(r.options.pull, 'missing');
  assert.deepEqual(r.options.env, []);
  assert.equal(r.options.name, undefined);
});

test('a value is the next argument whatever it looks like; shorthand clusters end in a value', () => {
  const r = parse(['--name', '-x', '-itn', '5', 'img']);
  assert.equal(r.options.name, '-x');
  assert.equal(r.options.last, 5);
  assert.equal(r.options.interactive, true);
});

test('passthrough: options end at the first positional, the rest is kept verbatim; -- ends options', () => {
  const r = parse(['-i', 'img', 'ls', '-la', '--name', 'x']);
  assert.deepEqual(r.args.command, ['ls', '-la', '--name', 'x']);
  assert.equal(r.options.name, undefined);
  const d = parse(['--', 'img', '-x']);
  assert.equal(d.args.image, 'img');
  assert.deepEqual(d.args.command, ['-x']);
});

test('interspersed: options may follow positionals', () => {
  const r = parseCommand(['a', '--name', 'x', 'b'], RM, 'rm');
  assert.notEqual(r, 'help');
  if (r !== 'help') {
    assert.deepEqual(r.args.container, ['a', 'b']);
    assert.equal(r.options.name, 'x');
  }
});

test("unknown flags and missing values: pflag's words, exit 125", () => {
  refused(['--foo', 'bar', 'img'], 'unknown flag: --foo', 125);
  refused(['--a-b=v', 'img'], 'unknown flag: --a-b', 125);
  refused(['-p', '80', 'img'], "unknown shorthand flag: 'p' in -p", 125);
  refused(['-ip', 'img'], "unknown shorthand flag: 'p' in -p", 125);
  refused(['-h'], "flag needs an argument: 'h' in -h", 125);
  refused(['--name'], 'flag needs an argument: --name', 125);
});

test('values are checked with the offending value named', () => {
  refused(['--stop-timeout', 'abc', 'img'], 'invalid argument "abc" for "--stop-timeout" flag: strconv.ParseInt: parsing "abc": invalid syntax', 125);
  refused(['-n', 'bogus', 'img'], 'invalid argument "bogus" for "-n, --last" flag: strconv.ParseInt: parsing "bogus": invalid syntax', 125);
  refused(['--tty=maybe', 'img'], 'invalid argument "maybe" for "-t, --tty" flag: strconv.ParseBool: parsing "maybe": invalid syntax', 125);
  refused(['--pull=bogus', 'img'], `invalid pull option: 'bogus': must be one of "missing", "always" or "never"`, 125);
  assert.throws(() => parse(['--health-interval', '5x', 'img']), /invalid argument "5x" for "--health-interval" flag/);
  assert.throws(() => parse(['--shm-size', 'lots', 'img']), /invalid argument "lots" for "--shm-size" flag/);
  assert.equal(parse(['--stop-timeout', '0x10', 'img']).options['stop-timeout'], 16);
});

test("a wrong number of arguments: cobra's words, exit 1", () => {
  refused([], "'skiff run' requires at least 1 argument", 1);
  refused([], "'skiff run' requires at least 1 argument", 1, RM);
  assert.throws(() => parseCommand(['x'], { options: {}, positionals: [] }, 'version'), (e: unknown) => e instanceof UsageError && e.message === "'skiff version' accepts no arguments");
});

test('--help anywhere among the options asks for help; -h is help unless the command takes -h', () => {
  assert.equal(parseCommand(['--help'], RUN, 'run'), 'help');
  assert.equal(parseCommand(['-h'], { options: {}, positionals: [] }, 'version'), 'help');
});

test('usage line from the positionals', () => {
  assert.equal(usageOf(RM), '[OPTIONS] CONTAINER [CONTAINER...]');
  assert.equal(usageOf(RUN), '[OPTIONS] IMAGE [COMMAND...]');
});

const CMDS = [
  { group: 'container', name: 'run', aliases: ['run'] },
  { group: 'container', name: 'ls', aliases: ['container ps', 'ps'] },
  { group: 'top', name: 'version', aliases: [] },
];

test("the command word is found after skiff's own options, one way for every caller", () => {
  const f = findCommand(['--root', '/r', 'run', 'img'], CMDS);
  assert.equal(f.command?.name, 'run');
  assert.equal(f.root.root, '/r');
  assert.deepEqual(f.rest, ['img']);
  assert.equal(findCommand(['-D', 'container', 'ps', '-a'], CMDS).command?.name, 'ls');
  assert.equal(findCommand(['--root=/r', 'ps'], CMDS).invokedAs, 'ps');
  assert.equal(findCommand(['container'], CMDS).group, 'container');
  assert.equal(findCommand(['--version'], CMDS).root.version, true);
  assert.throws(() => findCommand(['bogus'], CMDS), (e: unknown) => e instanceof UsageError && e.message === 'unknown command: skiff bogus' && e.exitCode === 1);
  assert.throws(() => findCommand(['container', 'bogus'], CMDS), /unknown command: skiff container bogus/);
  assert.throws(() => findCommand(['--bogus', 'ps'], CMDS), /unknown flag: --bogus/);
});

test("a group's own options before its verb (compose -f a -p b up): read into groupValues, the verb found after them", () => {
  const cmds = [{ group: 'compose', name: 'up', aliases: [] }];
  const own = { compose: { file: { type: 'string', alias: 'f', repeat: true }, 'project-name': { type: 'string', alias: 'p' } } } as const;
  const f = findCommand(['compose', '-f', 'a.yaml', '--file=b.yaml', '-p', 'demo', 'up', '-d'], cmds, own);
  assert.equal(f.command?.name, 'up');
  assert.deepEqual(f.groupValues, { file: ['a.yaml', 'b.yaml'], 'project-name': 'demo' });
  assert.deepEqual(f.rest, ['-d']);
  assert.equal(findCommand(['compose', '-p', 'x'], cmds, own).group, 'compose');
  assert.throws(() => findCommand(['compose', '--bogus', 'up'], cmds, own), /unknown flag: --bogus/);
  // without a table the group takes no options (as before)
  assert.throws(() => findCommand(['compose', '-f', 'a', 'up'], cmds), /unknown shorthand flag: 'f'/);
});

test("a stream value (Docker's -a) is stdin, stdout or stderr in any case, kept in lower case", () => {
  assert.deepEqual(parse(['-a', 'STDOUT', '--attach=Stderr', 'img']).options.attach, ['stdout', 'stderr']);
  refused(['-a', 'stdio', 'img'], 'invalid argument "stdio" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR', 125);
});

test('withoutOptions: the named options left out however given (clusters, =, separate value), the rest one per argument', () => {
  const drop = ['tty', 'name'];
  assert.deepEqual(withoutOptions(['-it', '-e', 'A=1', '--name', 'web', '--tty=true', '-eB=2', 'img', '-t', 'x'], RUN, 'run', drop), ['--interactive', '--env=A=1', '--env=B=2', 'img', '-t', 'x']);
  assert.deepEqual(withoutOptions(['--name=web', '--root', '/r', '--interactive=false', '--', '-img'], RUN, 'run', drop), ['--interactive=false', '--', '-img']);
  assert.throws(() => withoutOptions(['--bogus', 'img'], RUN, 'run', drop), UsageError);
});

test('systemdQuote: % and $ doubled; spaces, quotes and backslashes quoted', () => {
  assert.equal(systemdQuote('a=b:c/d'), 'a=b:c/d');
  assert.equal(systemdQuote('50%'), '50%%');
  assert.equal(systemdQuote('$HOME'), '$$HOME');
  assert.equal(systemdQuote('echo "hi there"'), '"echo \\"hi there\\""');
  assert.equal(systemdQuote(''), '""');
});
