import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate } from '../../src/cli/output/template.js';
import { formatOutput, renderTable } from '../../src/cli/output/table.js';
import { humanDuration, humanSize, parseSize } from '../../src/cli/output/units.js';

const data = {
  ID: 'abc123',
  Names: 'web',
  State: { Status: 'running', Running: true, ExitCode: 0 },
  Args: ['-c', 'echo hi'],
  Labels: { 'com.example': 'v', a: 'b' },
  Mounts: [{ Source: '/x' }, { Source: '/y' }],
  Size: 42,
};
const render = (t: string, d: unknown = data): string => compileTemplate(t).render(d);

test('Go template fields, json, index, join, pipelines, printf', () => {
  assert.equal(render('{{.ID}}\t{{.Names}}'), 'abc123\tweb');
  assert.equal(render('{{.State.Status}}'), 'running');
  assert.equal(render('{{json .State}}'), '{"Status":"running","Running":true,"ExitCode":0}');
  assert.equal(render('{{index .Labels "com.example"}}'), 'v');
  assert.equal(render('{{join .Args ","}}'), '-c,echo hi');
  assert.equal(render('{{.Names | upper}}'), 'WEB');
  assert.equal(render('{{printf "%d-%s" .Size .ID}}'), '42-abc123');
  assert.equal(render('{{.Args}}'), '[-c echo hi]');
  assert.equal(render('{{.Labels}}'), 'map[a:b com.example:v]');
  assert.equal(render('{{len .Mounts}}'), '2');
});

test('if/else, eq, range with variables, with, trim markers, comments', () => {
  assert.equal(render('{{if eq .State.Status "running"}}up{{else}}down{{end}}'), 'up');
  assert.equal(render('{{if .State.ExitCode}}bad{{else if .State.Running}}ok{{end}}'), 'ok');
  assert.equal(render('{{range .Mounts}}{{.Source}} {{end}}'), '/x /y ');
  assert.equal(render('{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}'), 'a=b;com.example=v;');
  assert.equal(render('{{with .State}}{{.Status}}{{end}}'), 'running');
  assert.equal(render('a  {{- .ID -}}  b'), 'aabc123b');
  assert.equal(render('{{/* note */}}x'), 'x');
});

test('template errors are one line and name the problem', () => {
  assert.throws(() => compileTemplate('{{.ID'), /invalid --format template: unclosed action/);
  assert.throws(() => render('{{nosuchfunc .ID}}'), /function "nosuchfunc" not defined/);
  assert.throws(() => render('{{.Nope}}'), /can't evaluate field Nope/);
  assert.throws(() => compileTemplate('{{if .ID}}x'), /missing \{\{end\}\}/);
});

test('tables pad like tabwriter and --format table derives headers', () => {
  assert.equal(renderTable(['A', 'LONGER'], [['xx', 'y']]), 'A    LONGER\nxx   y\n');
  const items = [{ ID: '1', Names: 'a' }, { ID: '22', Names: 'b' }];
  const out = formatOutput(items, {
    format: 'table {{.ID}}\t{{.Names}}',
    defaultTable: [],
    headerNames: { ID: 'CONTAINER ID' },
  });
  assert.equal(out, 'CONTAINER ID   NAMES\n1              a\n22             b\n');
  assert.equal(formatOutput(items, { format: 'json', defaultTable: [] }), '{"ID":"1","Names":"a"}\n{"ID":"22","Names":"b"}\n');
  assert.equal(formatOutput(items, { defaultTable: [], quiet: (i) => i.ID }), '1\n22\n');
});

test('sizes and durations like go-units', () => {
  assert.equal(humanSize(742), '742B');
  assert.equal(humanSize(5580), '5.58kB');
  assert.equal(humanSize(1982256), '1.98MB');
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(30_000), '30 seconds');
  assert.equal(humanDuration(90_000), 'About a minute');
  assert.equal(humanDuration(3 * 3600_000), '3 hours');
  assert.equal(parseSize('10m'), 10 * 1024 * 1024);
  assert.throws(() => parseSize('ten'), /invalid size/);
});
