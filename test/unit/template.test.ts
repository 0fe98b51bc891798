import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, sprintf, HEADER_FUNCS } from '../../src/cli/output/template.js';
import { SkiffError } from '../../src/errors.js';

// Shaped like `docker inspect` output: capitalised records are structs, other objects are maps.
const data = {
  ID: 'abc123',
  Image: 'busybox',
  Names: 'web',
  State: { Status: 'running', Running: true, Pid: 42 },
  Args: ['-c', 'echo hi'],
  Mounts: [{ Source: '/a' }, { Source: '/b' }],
  Config: {
    Labels: { 'com.example': 'v', a: 'b' },
    ExposedPorts: { '80/tcp': {} },
    Env: [] as string[],
  },
  HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] } },
  Nums: [1, 2, 3, 4],
  Size: 42,
  Ratio: 0.5,
  Nil: null,
};
const render = (t: string, d: unknown = data): string => compileTemplate(t).render(d);

test('fields, nested fields, $ and dot', () => {
  assert.equal(render('{{.ID}}\t{{.Image}}'), 'abc123\tbusybox');
  assert.equal(render('{{.State.Status}}'), 'running');
  assert.equal(render('{{.}}', 'x'), 'x');
  assert.equal(render('{{range .Mounts}}{{$.ID}}:{{.Source}} {{end}}'), 'abc123:/a abc123:/b ');
  assert.equal(render('{{(index .Mounts 1).Source}}'), '/b');
  assert.equal(render('{{.NetworkSettings.Networks.bridge.IPAddress}}', { NetworkSettings: { Networks: { bridge: { IPAddress: '10.0.0.2' } } } }), '10.0.0.2');
});

test('values print like Go fmt', () => {
  assert.equal(render('{{.Args}}'), '[-c echo hi]');
  assert.equal(render('{{.Config.Labels}}'), 'map[a:b com.example:v]');
  assert.equal(render('{{.State}}'), '{running true 42}');
  assert.equal(render('{{.Config.ExposedPorts}}'), 'map[80/tcp:{}]');
  assert.equal(render('{{.HostConfig.PortBindings}}'), 'map[80/tcp:[{ 8080}]]');
  assert.equal(render('{{.Config.Env}}'), '[]');
  assert.equal(render('{{.Nil}}'), '<no value>');
  assert.equal(render('{{.Config.Labels.missing}}'), '<no value>');
  assert.equal(render('{{.State.Running}} {{.Size}} {{.Ratio}}'), 'true 42 0.5');
  assert.equal(render('{{.F}}', { F: 1234567.5 }), '1.2345675e+06');
  assert.equal(render('{{"a\\tb"}}|{{`x\\ty`}}|{{\'a\'}}|{{0x1F}}|{{1_000}}|{{-2}}'), 'a\tb|x\\ty|97|31|1000|-2');
  assert.equal(render('{{true}} {{false}}'), 'true false');
});

test('json, index, slice, len, join, split and Docker string functions', () => {
  assert.equal(render('{{json .State}}'), '{"Status":"running","Running":true,"Pid":42}');
  assert.equal(render('{{json .Config.Labels}}'), '{"a":"b","com.example":"v"}');
  assert.equal(render('{{json .Nil}} {{json .Args}}'), 'null ["-c","echo hi"]');
  assert.equal(render('{{json "<&>"}}'), '"<&>"');
  assert.equal(render('{{index .Config.Labels "com.example"}}'), 'v');
  assert.equal(render('{{index .Config.Labels "nope"}}'), '');
  assert.equal(render('{{index .Args 1}} {{index .Nums 0}}'), 'echo hi 1');
  assert.equal(render('{{slice .ID 1 3}} {{slice .Nums 2}}'), 'bc [3 4]');
  assert.equal(render('{{len .Mounts}} {{len .Config.Labels}} {{len "héllo"}}'), '2 2 6');
  assert.equal(render('{{join .Args ","}}'), '-c,echo hi');
  assert.equal(render('{{split "a,b,c" ","}} {{len (split "a,b" ",")}}'), '[a b c] 2');
  assert.equal(render('{{.Names | upper}} {{lower "ABC"}} {{title "hello world-foo bar_baz"}}'), 'WEB abc Hello World-Foo Bar_baz');
  assert.equal(render('{{truncate .ID 3}}|{{truncate "ab" 5}}|{{pad "x" 1 2}}|{{pad "" 3 3}}'), 'abc|ab| x  |');
});

test('printf, print, println follow fmt', () => {
  assert.equal(render('{{.Size | printf "%d"}}'), '42');
  assert.equal(render('{{printf "%d-%s" .Size .ID}}'), '42-abc123');
  assert.equal(render('{{printf "%5.2f|%-5s|%05d|%x|%X|%q|%v|%t|%c|%U" 3.14159 "ab" 42 255 255 "hi" .Args true 65 65}}'), ' 3.14|ab   |00042|ff|FF|"hi"|[-c echo hi]|true|A|U+0041');
  assert.equal(render('{{printf "%+d %o %#x %b %e %g %8.3s|" 5 8 255 5 1234.5678 0.00001 "abcdef"}}'), '+5 10 0xff 101 1.234568e+03 1e-05      abc|');
  assert.equal(render('{{printf "%T %T %T %T" 1 1.5 "s" .Args}}'), 'int float64 string []string');
  assert.equal(render('{{printf "%d" "x"}}'), '%!d(string=x)');
  assert.equal(render('{{printf "%s %s" "a"}}'), 'a %!s(MISSING)');
  assert.equal(render('{{printf "%s" "a" "b"}}'), 'a%!(EXTRA string=b)');
  assert.equal(render('{{printf "100%%"}}'), '100%');
  assert.equal(render('{{printf "%[2]s %[1]s" "a" "b"}}'), 'b a');
  assert.equal(render('{{printf "%6.2f%%" 12.5}}'), ' 12.50%');
  assert.equal(render('{{print 1 2 "a" 3}}'), '1 2a3');
  assert.equal(render('{{println "a" 1}}'), 'a 1\n');
  assert.equal(sprintf('%v|%+v', [{ A: 1, B: 'x' }, { A: 1, B: 'x' }]), '{1 x}|{A:1 B:x}');
});

test('if / else if / else, with, and/or/not, comparisons', () => {
  assert.equal(render('{{if eq .State.Status "running"}}up{{end}}'), 'up');
  assert.equal(render('{{if eq .State.Status "exited" "running"}}one of{{end}}'), 'one of');
  assert.equal(render('{{if ne .State.Status "running"}}down{{else}}up{{end}}'), 'up');
  assert.equal(render('{{if .State.Pid | not}}a{{else if gt .State.Pid 100}}b{{else if .State.Running}}c{{else}}d{{end}}'), 'c');
  assert.equal(render('{{with .State}}{{.Pid}}{{end}}'), '42');
  assert.equal(render('{{with .Config.Env}}has{{else}}empty{{end}}'), 'empty');
  assert.equal(render('{{with $p := .State.Pid}}{{$p}}{{end}}'), '42');
  assert.equal(render('{{and 1 0 "x"}} {{and 1 "x"}} {{or 0 "" "y"}} {{or 0 ""}}'), '0 x y ');
  assert.equal(render('{{if and .State.Running (gt .Size 10)}}big{{end}}'), 'big');
  assert.equal(render('{{not .State.Running}} {{not .Config.Env}}'), 'false true');
  assert.equal(render('{{lt 1 2}} {{le 2 2}} {{gt 1 2}} {{ge "b" "a"}} {{eq .Nil nil}}'), 'true true false true true');
  // and/or short-circuit: the failing call is never made
  assert.equal(render('{{or .State.Running (index .Args 99)}}'), 'true');
});

test('range over slices, maps, ints; variables; break/continue; else', () => {
  assert.equal(render('{{range .Mounts}}{{.Source}} {{end}}'), '/a /b ');
  assert.equal(render('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}'), 'a=b;com.example=v;');
  assert.equal(render('{{range $i, $m := .Mounts}}{{$i}}:{{$m.Source}} {{end}}'), '0:/a 1:/b ');
  assert.equal(render('{{range $v := .Args}}[{{$v}}]{{end}}'), '[-c][echo hi]');
  assert.equal(render('{{range .Config.Env}}x{{else}}none{{end}}'), 'none');
  assert.equal(render('{{range .Missing}}x{{else}}none{{end}}', {}), 'none');
  assert.equal(render('{{range 3}}{{.}}{{end}}'), '012');
  assert.equal(render('{{range .Nums}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}'), '12');
  assert.equal(render('{{range .Nums}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}'), '134');
  assert.equal(render('{{$x := .ID}}{{$x}}'), 'abc123');
  assert.equal(render('{{$n := 0}}{{range .Nums}}{{$n = .}}{{end}}{{$n}}'), '4');
  assert.equal(render('{{range .Nums}}{{$sq := .}}{{end}}done'), 'done');
});

test('trim markers and comments', () => {
  assert.equal(render('a  {{- .ID -}}  b'), 'aabc123b');
  assert.equal(render('a {{-3}}'), 'a -3');
  assert.equal(render('{{range .Mounts -}}\n  {{.Source}}\n{{- end}}'), '/a/b');
  assert.equal(render('{{/* note */}}x'), 'x');
  assert.equal(render('x  {{- /* note */ -}}  y'), 'xy');
  assert.equal(render('{{/* multi\nline */}}ok'), 'ok');
});

test('function-valued fields are methods', () => {
  const row = { ID: 'c1', Label: (k: string) => ({ 'com.x': 'yes' })[k] ?? '' };
  assert.equal(render('{{.Label "com.x"}}|{{.Label "nope"}}', row), 'yes|');
  assert.equal(render('{{"com.x" | .Label}}', row), 'yes');
});

test('execution errors read like Docker and name the field', () => {
  const fails = (t: string, re: RegExp, d: unknown = data): void => {
    assert.throws(() => render(t, d), (e: unknown) => e instanceof SkiffError && e.code === 'EINVAL' && re.test(e.message));
  };
  assert.throws(() => render('{{.Foo}}'), { message: 'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type struct' });
  fails('{{.State.Nope}}', /^template: :1:8: executing "" at <\.State\.Nope>: can't evaluate field Nope/); // Go points at the chained field
  fails('x\n  {{.Nope}}', /^template: :2:4: executing/);
  fails('{{.ID.Foo}}', /can't evaluate field Foo in type string/);
  fails('{{.Nil.Foo}}', /nil pointer evaluating interface \{\}\.Foo/);
  fails('{{join .ID ","}}', /at <\.ID>: wrong type for value; expected \[\]string; got string/);
  fails('{{upper .Missing}}', /invalid value; expected string/, {});
  fails('{{index .Args 5}}', /at <index \.Args 5>: error calling index: index out of range: 5/);
  fails('{{eq .Size "42"}}', /error calling eq: incompatible types for comparison/);
  fails('{{.ID 1}}', /ID has arguments but cannot be invoked as function/);
  fails('{{len 3}}', /error calling len: len of type int/);
  fails('{{range .ID}}{{end}}', /range can't iterate over abc123/);
  fails('{{printf}}', /wrong number of args for printf: want at least 1 got 0/);
});

test('parse errors are EINVAL "invalid --format template"', () => {
  const bad = (t: string, re: RegExp): void => {
    assert.throws(() => compileTemplate(t), (e: unknown) => e instanceof SkiffError && e.code === 'EINVAL' && /^invalid --format template: template: :\d+: /.test(e.message) && re.test(e.message));
  };
  bad('{{.ID', /unclosed action/);
  bad('{{nosuchfunc .ID}}', /function "nosuchfunc" not defined/);
  bad('{{if .ID}}x', /unexpected EOF/);
  bad('{{end}}', /unexpected \{\{end\}\}/);
  bad('{{else}}', /unexpected \{\{else\}\}/);
  bad('{{$x}}', /undefined variable "\$x"/);
  bad('{{break}}', /\{\{break\}\} outside \{\{range\}\}/);
  bad('{{}}', /missing value for command/);
  bad('{{.ID | "x"}}', /non executable command in pipeline stage 2/);
  bad('{{"abc}}', /unterminated quoted string/);
  bad('{{/* x }}', /unclosed comment/);
  bad('{{.A #}}', /unexpected "#" in operand/);
  bad('{{(.A}}', /unclosed left paren/);
  bad('a\n{{.ID', /template: :2: unclosed action/);
  bad('{{define "x"}}{{end}}', /not supported/);
  bad('{{-.Size}}', /bad number syntax: "-\.S"/);
});

test('fields lists what the template refers to; partial and funcs serve table headers', () => {
  assert.deepEqual(compileTemplate('{{.ID}} {{.State.Status}} {{$.Names}} {{json .}}').fields, ['ID', 'State', 'Status', 'Names']);
  assert.equal(compileTemplate('a{{.Foo}}b').render({ X: 1 }, { partial: true }), 'a');
  const t = compileTemplate('{{.Names | upper}} {{truncate .ID 3}} {{json .Size}}');
  assert.equal(t.render({ Names: 'NAMES', ID: 'CONTAINER ID', Size: 'SIZE' }, { funcs: HEADER_FUNCS }), 'NAMES CONTAINER ID SIZE');
});
