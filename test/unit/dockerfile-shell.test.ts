/**
 * Shell-word expansion against BuildKit's lexer test data (frontend/dockerfile/shell/envVarTest and
 * wordsTest, driven as lex_test.go does), plus the pattern / replacement / mandatory-variable cases
 * lex_test.go checks in code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../src/errors.js';
import { ShellLex, processWord, processWords, patternRegex } from '../../src/builder/dockerfile/shell.js';
import { conformanceDir, throwsMsg } from '../helpers/conformance.js';


const { dir: DIR, skip: noData } = conformanceDir('dockerfile-shell');
const present = noData === false;

// ---- envVarTest: "<platform>|<input>|<expected>" ----
const ENV = ['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL='];
const envLines = present ? fs.readFileSync(path.join(DIR, 'envVarTest'), 'utf8').split('\n') : [];
let envCases = 0;
envLines.forEach((raw, i) => {
  if (raw.startsWith('#')) return;
  const line = raw.trim();
  if (line === '') return;
  const fields = line.split('|');
  const lineNo = i + 1;
  const [platform, source, expected] = fields.map((f) => f.trim()) as [string, string, string];
  envCases++;
  const name = `envVarTest:${lineNo} ${platform}|${source}`;
  // skiff builds Linux images only: Windows-only lines (case-insensitive variable names) don't apply
  const skip = platform === 'W' ? 'Windows-only case (variable names are case-insensitive there)' : false;
  test(name, { skip }, () => {
    assert.equal(fields.length, 3, `line ${lineNo} must have 3 fields`);
    assert.ok(['A', 'U', 'W'].includes(platform));
    if (expected === 'error') {
      assert.throws(() => processWord(source, ENV), (e: unknown) => e instanceof SkiffError && e.code === 'EINVAL');
    } else {
      assert.equal(processWord(source, ENV), expected);
    }
  });
});

// ---- wordsTest: "ENV k=v" lines accumulate, "<input> | w1,w2" cases ----
const wordLines = present ? fs.readFileSync(path.join(DIR, 'wordsTest'), 'utf8').split('\n') : [];
const env: string[] = [];
let wordCases = 0;
wordLines.forEach((line, i) => {
  if (line.startsWith('#') || line === '') return;
  if (line.startsWith('ENV ')) {
    env.push(line.slice(3).replace(/^ +/, ''));
    return;
  }
  const parts = line.split('|');
  const lineNo = i + 1;
  const input = parts[0]!.trim();
  const expected = (parts[1] ?? '').replace(/^ +/, '').split(',');
  const envNow = [...env];
  wordCases++;
  test(`wordsTest:${lineNo} ${input}`, () => {
    assert.equal(parts.length, 2, `line ${lineNo}: exactly one | expected`);
    let got: string[];
    try {
      got = processWords(input, envNow);
    } catch (e) {
      assert.ok(e instanceof SkiffError);
      got = ['error'];
    }
    assert.deepEqual(got, expected);
  });
});

test('shell conformance data is present and complete', { skip: noData }, () => {
  assert.equal(envCases, 230);
  assert.equal(wordCases, 24);
});

// ---- cases lex_test.go checks in code ----

test('mandatory variables ${VAR?msg} / ${VAR:?msg}', () => {
  const set = ['VAR=plain', 'ARG=x'];
  const empty = ['VAR=', 'ARG=x'];
  const unset = ['ARG=x'];
  assert.equal(processWord('${VAR:?message here$ARG}', set), 'plain');
  throwsMsg(() => processWord('${VAR:?message here$ARG}', empty), /message herex/);
  throwsMsg(() => processWord('${VAR:?message here$ARG}', unset), /message herex/);
  assert.equal(processWord('${VAR?message here$ARG}', set), 'plain');
  assert.equal(processWord('${VAR?message here$ARG}', empty), '');
  throwsMsg(() => processWord('${VAR?message here$ARG}', unset), /message herex/);
  throwsMsg(() => processWord('${VAR?}', unset), /^failed to process "\$\{VAR\?\}": VAR: is not allowed to be unset$/);
});

test('pattern removal, replacement and matches (TestProcessWithMatches)', () => {
  type C = [string, Record<string, string>, string | Error, string[]?, string[]?];
  const E = new Error();
  const cases: C[] = [
    ['x', { DUMMY: 'dummy' }, 'x', [], []],
    ['x ${UNUSED}', { DUMMY: 'dummy' }, 'x ', [], ['UNUSED']],
    ['x ${FOO}', { FOO: 'y' }, 'x y', ['FOO'], []],
    ['${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx  ccc', ['FOO', 'BAR'], ['BAZ']],
    ['${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx bbb ccc', ['FOO', 'BAR'], ['BAZ']],
    ['${FOO:-}', { FOO: 'xxx', BAR: '' }, 'xxx', ['FOO'], []],
    ['${FOO:-}', {}, '', [], ['FOO']],
    ['${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa bbb ', ['FOO', 'BAR'], ['BAZ']],
    ['${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa  ', ['FOO', 'BAR'], ['BAZ']],
    ['${FOO?aaa}', { FOO: 'xxx', BAR: '' }, 'xxx', ['FOO'], []],
    ['${BAR?bbb}', { FOO: 'xxx', BAR: '' }, '', ['BAR'], []],
    ['${BAZ?ccc}', { FOO: 'xxx', BAR: '' }, E],
    ['${FOO:?aaa}', { FOO: 'xxx', BAR: '' }, 'xxx', ['FOO'], []],
    ['${BAR:?bbb}', { FOO: 'xxx', BAR: '' }, E],
    ['${BAZ:?ccc}', { FOO: 'xxx', BAR: '' }, E],
    ['${BAZ:?}', { FOO: 'xxx', BAR: '' }, E],
    ['${FOO=aaa}', { FOO: 'xxx', BAR: '' }, E],
    ['${FOO=:aaa}', { FOO: 'xxx', BAR: '' }, E],
    ['${FOO=}', {}, E],
    ['${FOO#()[]{\\}^$.\\*\\?|\\\\}', { FOO: '()[]{}^$.*?|\\x' }, 'x', ['FOO'], []],
    ['${FOO%%\\**}', { FOO: 'xx**' }, 'xx', ['FOO'], []],
    ['${FOO#*x*y}', { FOO: 'xxyy' }, 'y', ['FOO'], []],
    ['${FOO#*}', { FOO: 'xxyy' }, 'xxyy', ['FOO'], []],
    ['${FOO#$BAR}', { FOO: 'xxyy', BAR: 'x' }, 'xyy', ['FOO', 'BAR'], []],
    ['${FOO#$BAR}', { FOO: 'xxyy', BAR: '' }, 'xxyy', ['FOO', 'BAR'], []],
    ['${FOO#}', { FOO: 'xxyy' }, 'xxyy', ['FOO'], []],
    ['${FOO##*x}', { FOO: 'xxyy' }, 'yy', ['FOO'], []],
    ['${FOO##}', { FOO: 'xxyy' }, 'xxyy', ['FOO'], []],
    ['${FOO#?\\?}', { FOO: '???y' }, '?y', ['FOO'], []],
    ['${ABC:-.}${FOO%x}${ABC:-.}', { FOO: 'xxyy' }, '.xxyy.', ['FOO'], ['ABC']],
    ['${FOO%%\\**\\*}', { FOO: 'a***yy*' }, 'a', ['FOO'], []],
    ['${FOO%}', { FOO: 'xxyy' }, 'xxyy', ['FOO'], []],
    ['${FOO%%$BAR}', { FOO: 'xxyy', BAR: '' }, 'xxyy', ['FOO', 'BAR'], []],
    ['${FOO:#}', {}, E],
    ['${FOO:##}', {}, E],
    ['${FOO:%}', {}, E],
    ['${FOO:%%}', {}, E],
    ['${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}', { FOO: '/foo*/*/*.txt', NEEDLE: '\\*/' }, '/foo.*/*.txt - /foo..*.txt', ['FOO', 'NEEDLE'], []],
    ['${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}', { FOO: '/tmp/tmp/bar.txt', NEEDLE: '/tmp' }, '/tmp/bar.txt - /bar.txt', ['FOO', 'NEEDLE'], []],
    ['${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}', { FOO: '/a/foo/b/c.txt', NEEDLE: '/?/', REPLACEMENT: '/' },
      '/foo/b/c.txt - /foo/c.txt', ['FOO', 'NEEDLE', 'REPLACEMENT'], []],
    ['${FOO/$NEEDLE/$REPLACEMENT}', { FOO: 'http://google.de', NEEDLE: 'http://', REPLACEMENT: 'https://' },
      'https://google.de', ['FOO', 'NEEDLE', 'REPLACEMENT'], []],
    ['${FOO//\\//\\/}', { FOO: '/tmp/foo.txt' }, '\\/tmp\\/foo.txt', ['FOO'], []],
    ['${FOO/$BAR/ww}', { FOO: 'xxyy', BAR: '' }, 'wwxxyy', ['FOO', 'BAR'], []],
    ['${FOO//ww}', { FOO: 'xxyy' }, E],
    ['${FOO//}', { FOO: 'xxyy' }, E],
    ['${FOO///}', { FOO: 'xxyy' }, 'xxyy', ['FOO'], []],
    ['${FOO///}', {}, '', [], ['FOO']],
  ];
  const lex = new ShellLex();
  for (const [input, envs, expected, matched, unmatched] of cases) {
    if (expected instanceof Error) {
      assert.throws(() => lex.processWordWithMatches(input, envs), SkiffError, input);
      continue;
    }
    const r = lex.processWordWithMatches(input, envs);
    assert.equal(r.result, expected, input);
    assert.deepEqual([...r.matched].sort(), [...matched!].sort(), `${input} matched`);
    assert.deepEqual([...r.unmatched].sort(), [...unmatched!].sort(), `${input} unmatched`);
  }
});

test('release-name expansion with ${VAR:+-${VAR}}', () => {
  const w = 'something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz';
  const base = { VERSION: 'v1.2.3', TARGETOS: 'linux' };
  assert.equal(processWord(w, { ...base, TARGETARCH: 'arm', TARGETVARIANT: 'v7' }), 'something-v1.2.3.linux-arm-v7.tar.gz');
  assert.equal(processWord(w, { ...base, TARGETARCH: 'arm64', TARGETVARIANT: '' }), 'something-v1.2.3.linux-arm64.tar.gz');
  assert.equal(processWord(w, { ...base, TARGETARCH: 'arm64' }), 'something-v1.2.3.linux-arm64.tar.gz');
});

test('shell patterns become the same regular expressions', () => {
  assert.equal(patternRegex('*', true, true).source, '^[^\\n]*');
  assert.equal(patternRegex('?', true, true).source, '^[^\\n]');
  assert.equal(patternRegex('\\*', true, true).source, '^\\*');
  assert.equal(patternRegex('(()[]{\\}^$.\\*\\?|\\\\', true, true).source, '^\\(\\(\\)\\[\\]\\{\\}\\^\\$\\.\\*\\?\\|\\\\');
  for (const bad of ['\\', '\\x', '\\\\\\']) assert.throws(() => patternRegex(bad, true, true));
  // reversal keeps escapes and astral characters intact
  assert.equal(processWord('${F%%🚀*}', { F: '👽🚀🖖' }), '👽');
  assert.equal(processWord('${F#*🚀}', { F: '👽🚀🖖' }), '🖖');
});

test('backtick escape token, environment forms, options', () => {
  assert.equal(processWord('a`$b c`"', { b: 'x' }, { escape: '`' }), 'a$b c"');
  assert.equal(processWord('C:\\dir\\$X', { X: 'y' }, { escape: '`' }), 'C:\\dir\\y');
  assert.equal(processWord('$A-$B', new Map([['A', '1'], ['B', '2']])), '1-2');
  assert.equal(processWord('$A', ['A=1', 'A=2']), '2');
  assert.equal(processWord('[$A]', ['A']), '[]');
  assert.equal(processWord('$X ${Y:-z} "q"', {}, { skipUnsetEnv: true, rawQuotes: true }), '$X ${Y:-z} "q"');
  assert.equal(processWord('"$A" \'b\'', { A: '1' }, { skipProcessQuotes: true }), '"1" \'b\'');
  assert.equal(processWord('a\\ b', {}, { rawEscapes: true }), 'a\\ b');
  // words: quoted whitespace is kept, unquoted expansions split, nested defaults keep their prefix
  assert.deepEqual(processWords('80${P:-/tcp} "a b" $V', { V: ' x  y ' }), ['80/tcp', 'a b', 'x', 'y']);
  assert.deepEqual(processWords('a << EOF', {}), ['a', '<< EOF']);
});
