import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatOutput, headerFor, renderTable, tabwrite } from '../../src/cli/output/table.js';
import { SkiffError } from '../../src/errors.js';

test('tabwriter: minwidth 10, padding 3, last cell unpadded, blocks end at shorter lines', () => {
  assert.equal(renderTable(['A', 'LONGER'], [['xx', 'y']]), 'A         LONGER\nxx        y\n');
  assert.equal(
    renderTable(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], []),
    'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n',
  );
  assert.equal(
    renderTable(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], [['busybox', 'latest', 'a416a98b71e2', '2 weeks ago', '4.26MB']]),
    'REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n' + 'busybox      latest    a416a98b71e2   2 weeks ago   4.26MB\n',
  );
  assert.equal(tabwrite('a\tb\nlonger\nc\td\n'), 'a         b\nlonger\nc         d\n');
  assert.equal(tabwrite('a\tb\tc\nx\ty\n'), 'a         b         c\nx         y\n');
  assert.equal(tabwrite('héllo\tx\n'), 'héllo     x\n');
  assert.equal(tabwrite('no newline'), 'no newline');
  assert.equal(tabwrite('a\tb\n', { minwidth: 0, padding: 1 }), 'a b\n');
});

const rows = [
  { ID: '1', Names: 'a', CreatedAt: '2024-01-01', Size: '0B' },
  { ID: '22', Names: 'b', CreatedAt: '2024-01-02', Size: '1kB' },
];
const defaultTable = [
  { header: 'CONTAINER ID', field: (r: (typeof rows)[number]) => r.ID },
  { header: 'NAMES', field: (r: (typeof rows)[number]) => r.Names },
];
const headerNames = { ID: 'CONTAINER ID' };

test('formatOutput: default table, "table", table templates with Docker headers', () => {
  const expected = 'CONTAINER ID   NAMES\n1              a\n22             b\n';
  assert.equal(formatOutput(rows, { defaultTable }), expected);
  assert.equal(formatOutput(rows, { format: 'table', defaultTable }), expected);
  assert.equal(formatOutput(rows, { format: 'table {{.ID}}\t{{.Names}}', defaultTable, headerNames }), expected);
  // what a shell passes for --format 'table {{.ID}}\t{{.Names}}': a backslash and a t
  assert.equal(formatOutput(rows, { format: 'table {{.ID}}\\t{{.Names}}', defaultTable, headerNames }), expected);
  assert.equal(formatOutput(rows, { format: 'table {{.CreatedAt}}\\t{{.ID}}', defaultTable }), 'CREATED AT   ID\n2024-01-01   1\n2024-01-02   22\n');
  assert.equal(formatOutput(rows, { format: 'table {{.ID}}: {{.Names | upper}}', defaultTable, headerNames }), 'CONTAINER ID: NAMES\n1: A\n22: B\n');
  assert.equal(formatOutput([], { format: 'table {{.ID}}\\t{{.Size}}', defaultTable, headerNames }), 'CONTAINER ID   SIZE\n');
  assert.equal(formatOutput([], { defaultTable }), 'CONTAINER ID   NAMES\n');
});

test('formatOutput: json, plain templates, quiet', () => {
  const items = [{ ID: '1', Names: 'a' }, { ID: '22', Names: 'b' }];
  assert.equal(formatOutput(items, { format: 'json', defaultTable: [] }), '{"ID":"1","Names":"a"}\n{"ID":"22","Names":"b"}\n');
  assert.equal(formatOutput(items, { format: '{{json .}}', defaultTable: [] }), '{"ID":"1","Names":"a"}\n{"ID":"22","Names":"b"}\n');
  assert.equal(formatOutput(items, { format: '{{.ID}}\\t{{.Names}}', defaultTable: [] }), '1\ta\n22\tb\n');
  assert.equal(formatOutput(items, { format: '{{.ID}}\\n', defaultTable: [] }), '1\n\n22\n\n');
  assert.equal(formatOutput(items, { defaultTable: [], quiet: (i) => i.ID }), '1\n22\n');
  assert.equal(formatOutput(items, { format: '{{.Names}}', defaultTable: [], quiet: (i) => i.ID }), '1\n22\n');
  assert.equal(formatOutput([], { format: '{{.ID}}', defaultTable: [] }), '');
});

test('formatOutput: template errors surface', () => {
  assert.throws(() => formatOutput(rows, { format: '{{.Nope}}', defaultTable }), (e: unknown) => e instanceof SkiffError && /can't evaluate field Nope/.test(e.message));
  assert.throws(() => formatOutput(rows, { format: 'table {{.ID', defaultTable }), /invalid --format template/);
});

test('headerFor splits CamelCase like Docker and honours overrides', () => {
  assert.equal(headerFor('ID'), 'ID');
  assert.equal(headerFor('CreatedAt'), 'CREATED AT');
  assert.equal(headerFor('LocalVolumes'), 'LOCAL VOLUMES');
  assert.equal(headerFor('RunningFor', { RunningFor: 'CREATED' }), 'CREATED');
});
