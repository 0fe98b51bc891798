/**
 * Dockerfile parser against BuildKit's parser test files (frontend/dockerfile/parser/testfiles*:
 * every `result` reproduced byte for byte by dump(), negative cases rejected, line numbers of
 * testfile-line), plus heredoc, directive and warning behaviour from parser_heredoc_test.go /
 * parser_test.go.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../src/errors.js';
import {
  chompHeredocContent, dump, extractBuilderFlags, heredocsFromLine, parseDockerfile, parseHeredoc, parseWords,
} from '../../src/builder/dockerfile/parser.js';
import { conformanceDir, throwsMsg } from '../helpers/conformance.js';


const { dir: DIR, skip: noData } = conformanceDir('dockerfile-parser');
const present = noData === false;

function caseDirs(sub: string): string[] {
  if (!present) return [];
  return fs.readdirSync(path.join(DIR, sub)).filter((d) => fs.statSync(path.join(DIR, sub, d)).isDirectory()).sort();
}

const positive = caseDirs('testfiles');
for (const name of positive) {
  test(`parser testfiles/${name}`, () => {
    const text = fs.readFileSync(path.join(DIR, 'testfiles', name, 'Dockerfile'), 'utf8');
    const expected = fs.readFileSync(path.join(DIR, 'testfiles', name, 'result'), 'utf8');
    const res = parseDockerfile(text, 'Dockerfile');
    assert.equal(dump(res.ast) + '\n', expected);
  });
}

const negative = caseDirs('testfiles-negative');
for (const name of negative) {
  test(`parser testfiles-negative/${name}`, () => {
    const text = fs.readFileSync(path.join(DIR, 'testfiles-negative', name, 'Dockerfile'), 'utf8');
    assert.throws(() => parseDockerfile(text, `${name}/Dockerfile`), (e: unknown) => {
      assert.ok(e instanceof SkiffError);
      assert.equal(e.code, 'EINVAL');
      assert.match(e.message, new RegExp(`^${name}/Dockerfile:\\d+: `));
      return true;
    });
  });
}

test('conformance data is present and complete', { skip: noData }, () => {
  assert.equal(positive.length, 33);
  assert.equal(negative.length, 4);
});

test('negative cases fail with the BuildKit reason, naming file, line and instruction', { skip: noData }, () => {
  const read = (n: string): string => fs.readFileSync(path.join(DIR, 'testfiles-negative', n, 'Dockerfile'), 'utf8');
  throwsMsg(() => parseDockerfile(read('empty_dockerfile'), 'Dockerfile'), /^Dockerfile:1: file with no instructions$/);
  throwsMsg(() => parseDockerfile(read('only_comments'), 'Dockerfile'), /^Dockerfile:\d+: file with no instructions$/);
  throwsMsg(() => parseDockerfile(read('env_no_value'), 'Dockerfile'), /^Dockerfile:3: ENV: ENV must have two arguments$/);
  throwsMsg(
    () => parseDockerfile(read('shykes-nested-json'), 'Dockerfile'),
    /^Dockerfile:1: CMD: when using JSON array syntax, arrays must be comprised of strings only$/,
  );
});

test('parser testfile-line: line numbers', { skip: noData }, () => {
  const text = fs.readFileSync(path.join(DIR, 'testfile-line', 'Dockerfile'), 'utf8');
  const res = parseDockerfile(text, 'Dockerfile');
  assert.equal(res.ast.startLine, 5);
  assert.equal(res.ast.endLine, 31);
  assert.deepEqual(res.ast.children.map((c) => [c.startLine, c.endLine]), [[5, 5], [11, 12], [17, 31]]);
  assert.deepEqual(res.ast.children.map((c) => c.value.toLowerCase()), ['from', 'env', 'run']);
});

test('parseWords keeps quotes and escapes', () => {
  const cases: [string, string[]][] = [
    ['foo', ['foo']],
    ['foo bar', ['foo', 'bar']],
    ['foo\\ bar', ['foo\\ bar']],
    ['foo=bar', ['foo=bar']],
    ["foo bar 'abc xyz'", ['foo', 'bar', "'abc xyz'"]],
    ['foo bar "abc xyz"', ['foo', 'bar', '"abc xyz"']],
    ['àöû', ['àöû']],
    ['föo bàr "âbc xÿz"', ['föo', 'bàr', '"âbc xÿz"']],
  ];
  for (const [input, expect] of cases) assert.deepEqual(parseWords(input), expect, input);
});

test('builder flags: quotes and escapes removed, -- ends flags', () => {
  assert.deepEqual(extractBuilderFlags('--foo="a b" --bar x y'), ['x y', ['--foo=a b', '--bar']]);
  assert.deepEqual(extractBuilderFlags('--a -- --b c'), [' --b c', ['--a']]);
  assert.deepEqual(extractBuilderFlags('--a=1'), ['', ['--a=1']]);
  assert.deepEqual(extractBuilderFlags('-x --a'), ['-x --a', []]);
  const res = parseDockerfile('FROM a\nCOPY --chown="1:1" --from=b src dst\n', 'Dockerfile');
  assert.deepEqual(res.ast.children[1]!.flags, ['--chown=1:1', '--from=b']);
});

test('directives: escape, syntax, check only at the top', () => {
  const r = parseDockerfile('# syntax=docker/dockerfile:1\n# check=skip=all\n#escape=`\nFROM a\nRUN x `\n y\n', 'Dockerfile');
  assert.equal(r.escapeToken, '`');
  assert.deepEqual(r.directives.map((d) => [d.name, d.value, d.line]), [
    ['syntax', 'docker/dockerfile:1', 1], ['check', 'skip=all', 2], ['escape', '`', 3],
  ]);
  assert.equal(dump(r.ast), '(from "a")\n(run "x  y")');
  // after any other comment, an instruction or a blank line directives are plain comments
  for (const text of ['# hello\n# escape=`\nFROM a\n', '\n# escape=`\nFROM a\n', 'FROM a\n# escape=`\n']) {
    assert.equal(parseDockerfile(text, 'Dockerfile').escapeToken, '\\');
  }
  throwsMsg(() => parseDockerfile('# escape=x\nFROM a\n', 'Dockerfile'), /^Dockerfile:1: parser directive: invalid escape token 'x'/);
  throwsMsg(() => parseDockerfile('# escape=`\n# escape=`\nFROM a\n', 'Dockerfile'), /^Dockerfile:2: parser directive: only one escape parser directive can be used$/);
  // a BOM on the first line is ignored
  assert.equal(parseDockerfile('\ufeff# escape=`\nFROM a\n', 'Dockerfile').escapeToken, '`');
});

test('continuations: comments skipped, empty lines warn, CRLF handled', () => {
  const text = [
    '', 'FROM alpine:3.6', '', 'RUN valid \\', '    continuation', '', 'RUN something \\', '',
    '    following \\', '', '    more', '', 'RUN another \\', '', '    thing', '',
    'RUN non-indented \\', '# this is a comment', '   after-comment', '',
    'RUN indented \\', '    # this is an indented comment', '    comment', '\t',
  ].join('\n');
  const r = parseDockerfile(text, 'Dockerfile');
  assert.equal(r.warnings.length, 2);
  assert.match(r.warnings[0]!.short, /^Empty continuation line found in: RUN something     following     more$/);
  assert.match(r.warnings[1]!.short, /RUN another     thing/);
  assert.match(r.warnings[0]!.detail, /will become errors in a future release/);
  assert.equal(r.warnings[0]!.line, 11);
  assert.deepEqual(r.ast.children.slice(4).map((c) => c.next?.value), ['non-indented    after-comment', 'indented     comment']);
  const crlf = parseDockerfile('FROM a\r\nRUN echo \\\r\n  b\r\n', 'Dockerfile');
  assert.equal(dump(crlf.ast), '(from "a")\n(run "echo   b")');
});

test('comments above an instruction are attached to it', () => {
  const r = parseDockerfile('FROM a\n# first\n# second\nARG x\n#\n# other\nRUN y\n', 'Dockerfile');
  assert.deepEqual(r.ast.children[1]!.prevComment, ['first', 'second']);
  assert.deepEqual(r.ast.children[2]!.prevComment, ['other']);
});

test('ONBUILD nests the trigger; flags and JSON on the trigger', () => {
  const r = parseDockerfile('FROM a\nONBUILD COPY --from=b ["x y", "/z"]\nONBUILD\n', 'Dockerfile');
  assert.equal(dump(r.ast), '(from "a")\n(onbuild (copy ["--from=b"] "x y" "/z"))\n(onbuild)');
  assert.equal(r.ast.children[1]!.next!.children[0]!.attributes['json'], true);
});

test('unknown instructions keep one empty argument; keywords are case-insensitive', () => {
  const r = parseDockerfile('from a\nFoo bar baz\nrun echo\n', 'Dockerfile');
  assert.equal(dump(r.ast), '(from "a")\n(foo "")\n(run "echo")');
  assert.equal(r.ast.children[1]!.value, 'Foo');
});

test('LABEL/ENV errors name file, line and instruction', () => {
  throwsMsg(() => parseDockerfile('FROM a\n\nLABEL a=b c\n', 'ctx/Dockerfile'),
    /^ctx\/Dockerfile:3: LABEL: Syntax error - can't find = in "c". Must be of the form: name=value$/);
  throwsMsg(() => parseDockerfile('FROM a\nRUN ["a", 1]\n', 'Dockerfile'), /^Dockerfile:2: RUN: when using JSON/);
  throwsMsg(() => parseDockerfile('FROM a\nLABEL x\n', 'Dockerfile'), /^Dockerfile:2: LABEL: LABEL must have two arguments$/);
});

test('over-long lines are rejected as BuildKit does', () => {
  const long = 'a'.repeat(64 * 1024);
  throwsMsg(() => parseDockerfile(`FROM image\nLABEL test=${long}\n`, 'Dockerfile'),
    /^Dockerfile:2: dockerfile line greater than max allowed size of 65535$/);
  const ok = 'a'.repeat(60 * 1024);
  assert.equal(parseDockerfile(`FROM image\nLABEL test=${ok}\n`, 'Dockerfile').ast.children.length, 2);
});

test('heredocs are extracted as BuildKit does (parser_heredoc_test)', () => {
  const text = `
FROM alpine:3.6

ENV NAME=me

RUN ls

USER <<INVALID
INVALID

RUN <<EMPTY
EMPTY

RUN 3<<EMPTY2
EMPTY2

RUN "<<NOHEREDOC"

RUN <<INDENT
\tfoo
\tbar
INDENT

RUN <<-UNINDENT
\tbaz
\tquux
UNINDENT

RUN <<-UNINDENT2
\tbaz
\tquux
\tUNINDENT2

RUN <<-EXPAND
\texpand $NAME
EXPAND

RUN <<-'NOEXPAND'
\tdon't expand $NAME
NOEXPAND

RUN <<COPY
echo hello world
echo foo bar
COPY

RUN <<COMMENT
# internal comment
echo hello world
echo foo bar # trailing comment
COMMENT

RUN --mount=type=cache,target=/foo <<MOUNT
echo hello
MOUNT

COPY <<FILE1 <<FILE2 /dest
content 1
FILE1
content 2
FILE2

COPY <<EOF /quotes
"foo"
'bar'
EOF

COPY <<X <<Y /dest
Y
X
X
Y

RUN <<COMPLEX python3
print('hello world')
COMPLEX

COPY <<file.txt /dest
hello world
file.txt

RUN <<eo'f'
echo foo
eof

RUN <<eo\\'f
echo foo
eo'f

RUN <<'e'o\\'f
echo foo
eo'f

RUN <<'one two'
echo bar
one two

RUN <<$EOF
$EOF

RUN <<  EOF
EOF

RUN <<  EOF  > foo
EOF
\t`;
  type H = [string, string, boolean, boolean?, number?];
  const h = (name: string, content: string, expand: boolean, chomp = false, fd = 0): H => [name, content, expand, chomp, fd];
  const expected: (H[] | null)[] = [
    null, null, null, null,
    [h('EMPTY', '', true)],
    [h('EMPTY2', '', true, false, 3)],
    null,
    [h('INDENT', '\tfoo\n\tbar\n', true)],
    [h('UNINDENT', '\tbaz\n\tquux\n', true, true)],
    [h('UNINDENT2', '\tbaz\n\tquux\n', true, true)],
    [h('EXPAND', '\texpand $NAME\n', true, true)],
    [h('NOEXPAND', "\tdon't expand $NAME\n", false, true)],
    [h('COPY', 'echo hello world\necho foo bar\n', true)],
    [h('COMMENT', '# internal comment\necho hello world\necho foo bar # trailing comment\n', true)],
    [h('MOUNT', 'echo hello\n', true)],
    [h('FILE1', 'content 1\n', true), h('FILE2', 'content 2\n', true)],
    [h('EOF', '"foo"\n\'bar\'\n', true)],
    [h('X', 'Y\n', true), h('Y', 'X\n', true)],
    [h('COMPLEX', "print('hello world')\n", true)],
    [h('file.txt', 'hello world\n', true)],
    [h('eof', 'echo foo\n', false)],
    [h("eo'f", 'echo foo\n', true)],
    [h("eo'f", 'echo foo\n', false)],
    [h('one two', 'echo bar\n', false)],
    [h('$EOF', '', true)],
    [h('EOF', '', true)],
    [h('EOF', '', true)],
  ];
  const res = parseDockerfile(text, 'Dockerfile');
  expected.forEach((exp, i) => {
    const got = res.ast.children[i + 1]!.heredocs.map((d): H => [d.name, d.content, d.expand, d.chomp, d.fileDescriptor]);
    assert.deepEqual(got, exp ?? [], `child ${i + 1}: ${res.ast.children[i + 1]!.original}`);
  });
  // the body lines are not instructions: USER, RUN "<<NOHEREDOC" ... all parse as their own nodes
  assert.equal(res.ast.children[3]!.value, 'USER');
  assert.equal(res.ast.children[4]!.value, 'INVALID');
});

test('heredocs: exec form has none; unterminated ones fail; ONBUILD carries them', () => {
  const r = parseDockerfile('FROM a\nRUN ["whoami"]\nRUN ["<<EOF"]\nRUN ["<<\'EOF\'"]\n', 'Dockerfile');
  for (const c of r.ast.children) assert.deepEqual(c.heredocs, []);
  throwsMsg(() => parseDockerfile('FROM a\nRUN <<EOF\necho\n', 'Dockerfile'), /^Dockerfile:2: RUN: unterminated heredoc/);
  const ob = parseDockerfile('FROM a\nONBUILD RUN <<EOF\necho hi\nEOF\n', 'Dockerfile');
  assert.equal(ob.ast.children[1]!.heredocs[0]!.content, 'echo hi\n');
  assert.equal(ob.ast.children[1]!.endLine, 4);
});

test('heredoc helpers (TestParseHeredocHelpers, TestHeredocsFromLine, TestHeredocChomp)', () => {
  for (const src of ['<<EOF', "<<'EOF'", '<<"EOF"', '<<-EOF', "<<-'EOF'", '<<-"EOF"', '<<EO"F"', '<< EOF', '<<- EOF']) {
    assert.equal(parseHeredoc(src)?.name, 'EOF', src);
  }
  for (const src of ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"']) assert.throws(() => parseHeredoc(src), src);
  for (const src of ['', 'EOF', '<<', '<<-', '<EOF', '<<<EOF', '<<EOF sh']) assert.equal(parseHeredoc(src), null, src);
  // (`<<- EOF` on a line is two words, so not a heredoc: upstream's loop over the result passes vacuously)
  const lines: [string, string[]][] = [
    ['RUN <<EOF', ['EOF']], ['RUN <<-EOF', ['EOF']], ['RUN <<- EOF', []], ['RUN << -EOF', ['-EOF']],
    ["RUN <<'EOF'", ['EOF']], ['RUN 4<<EOF', ['EOF']], ['RUN <<EOF <<EOF2', ['EOF', 'EOF2']],
    ["RUN '<<EOF'", []], ['RUN "<<EOF"', []],
  ];
  for (const [line, names] of lines) assert.deepEqual(heredocsFromLine(line).map((d) => d.name), names, line);
  assert.equal(chompHeredocContent('\thello\n\tworld\n'), 'hello\nworld\n');
});

test('dump quotes like Go strconv.Quote', () => {
  const r = parseDockerfile('FROM a\nLABEL k="\u00a0x\u0001\u00e9\u{1F600}\u2028"\n', 'Dockerfile');
  assert.equal(dump(r.ast).split('\n')[1], '(label "k" "\\"\\u00a0x\\x01é😀\\u2028\\"" "=")');
});
