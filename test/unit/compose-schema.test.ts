import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaProblems, validateSchema } from '../../src/compose/schema.js';
import { readYamlDocuments } from '../../src/compose/yaml.js';
import { conformanceDir, throwsMsg } from '../helpers/conformance.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const shared = conformanceDir('compose', 'compose-spec.json');

test("the product's schema is the compose-spec one, byte for byte", { skip: shared.skip }, () => {
  const ours = fs.readFileSync(path.join(REPO, 'src/compose/compose-spec.json'));
  assert.ok(ours.equals(fs.readFileSync(path.join(shared.dir, 'compose-spec.json'))));
});

test('using-variables.yaml validates as it is (before interpolation)', { skip: conformanceDir('compose', 'compose-go/schema/using-variables.yaml').skip }, () => {
  const file = path.join(shared.dir, 'compose-go/schema/using-variables.yaml');
  const [doc] = readYamlDocuments(fs.readFileSync(file, 'utf8'), file);
  assert.deepEqual(schemaProblems(doc!.value, doc!.lines), []);
});

const check = (text: string): void => {
  const [doc] = readYamlDocuments(text, 'c.yaml');
  validateSchema(doc!.value, 'c.yaml', doc!.lines);
};

test('valid files pass (no ../shared needed)', () => {
  check('services:\n  web:\n    image: nginx\n    ports: ["80:80", {target: 81}]\n    healthcheck: {test: ["CMD", "true"], interval: 10s}\nx-extra: 1\nversion: "3"\n');
  check('services:\n  web:\n    image: nginx\n    deploy: {replicas: "${N}"}\n    ports:\n      - target: "${P}"\n');
});

test('schema errors name the file, the path and the line', () => {
  throwsMsg(() => check('services:\n  web:\n    image: nginx\n    ports:\n      - true\n'), /^validating c\.yaml: services\.web\.ports\[0\] \(line 5\): must be a number(, .*)? or (an )?.*/);
  throwsMsg(() => check('services:\n  web:\n    image: nginx\n    bogus: 1\n'), /^validating c\.yaml: services\.web\.bogus \(line 4\): additional property "bogus" is not allowed$/);
  throwsMsg(() => check('services: {}\nfoo: 1\n'), /^validating c\.yaml: foo \(line 2\): additional property "foo" is not allowed$/);
  throwsMsg(() => check('services:\n  web:\n    image: [1]\n'), /services\.web\.image \(line 3\): must be a string/);
  throwsMsg(() => check('services:\n  web:\n    depends_on:\n      db: {condition: maybe}\n'), /services\.web\.depends_on\.db\.condition \(line 4\): must be one of "service_started", "service_healthy", "service_completed_successfully"/);
});

test('YAML syntax errors and duplicate keys name the line', () => {
  throwsMsg(() => readYamlDocuments('services:\n  web: [1\n', 'c.yaml'), /^failed to parse c\.yaml: line \d+, column \d+: /);
  throwsMsg(() => readYamlDocuments('services:\n  a: {}\n  a: {}\n', 'c.yaml'), /^failed to parse c\.yaml: line 3: mapping key "a" already defined$/);
  throwsMsg(() => readYamlDocuments('__proto__: {}\n', 'c.yaml'), /invalid key "__proto__"/);
});

test('anchors, aliases, merge keys, !reset and !override', () => {
  const [doc] = readYamlDocuments('x-b: &b {image: a, ports: [1]}\nservices:\n  s:\n    <<: *b\n    image: c\n    command: !reset\n    ports: !override [2]\n', 'c.yaml');
  assert.deepEqual(doc!.value, { 'x-b': { image: 'a', ports: [1] }, services: { s: { image: 'c', ports: [2] } } });
  assert.deepEqual(doc!.resets, [['services', 's', 'command'], ['services', 's', 'ports']]);
  throwsMsg(() => readYamlDocuments('a: &a [1, *a]\n', 'c.yaml'), /refers to a node that contains it/);
  throwsMsg(() => readYamlDocuments('a: &a [1, 2]\n' + Array.from({ length: 20 }, (_, i) => `b${i}: &b${i} [${i === 0 ? '*a' : `*b${i - 1}`}, ${i === 0 ? '*a' : `*b${i - 1}`}]`).join('\n'), 'c.yaml'), /maximum node visit limit/);
});
