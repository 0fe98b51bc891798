import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/compose/index.js';
import { conformanceDir, throwsMsg } from '../helpers/conformance.js';

const { dir, skip } = conformanceDir('compose', 'compose-go/cli/testdata');
const TD = path.join(dir, 'compose-go/cli/testdata');

test('project name: -p, validation, precedence', { skip }, () => {
  const simple = path.join(TD, 'simple/compose.yaml');
  for (const bad of ['-my_project', '_my_project', 'www.my.project', 'MY_PROJECT']) {
    throwsMsg(() => loadProject({ files: [simple], projectName: bad, env: {} }), new RegExp(`^invalid project name "${bad.replace(/\./g, '\\.')}"`));
    throwsMsg(() => loadProject({ files: [simple], env: { COMPOSE_PROJECT_NAME: bad } }), /^invalid project name/);
  }
  assert.equal(loadProject({ files: [simple], projectName: '42my_project', env: {} }).name, '42my_project');
  assert.equal(loadProject({ files: [simple], env: {} }).name, 'simple');
  assert.equal(loadProject({ files: [path.join(TD, 'UNNORMALIZED PATH/compose.yaml')], env: {} }).name, 'unnormalizedpath');
  const named = path.join(TD, 'simple/compose-name.yaml');
  assert.equal(loadProject({ files: [named], env: { TEST: 'X' } }).name, 'test-x-test');
  assert.equal(loadProject({ files: [named], env: { TEST: 'X', COMPOSE_PROJECT_NAME: 'fromenv' } }).name, 'fromenv');
  assert.equal(loadProject({ files: [named], env: { COMPOSE_PROJECT_NAME: 'fromenv' }, projectName: 'flag' }).name, 'flag');
});

test('several -f files merge in order; .env of the project directory feeds interpolation', { skip }, () => {
  const p = loadProject({ files: [path.join(TD, 'simple/compose.yaml'), path.join(TD, 'simple/compose-with-overrides.yaml')], env: {} });
  assert.equal(p.services.simple!.image, 'haproxy');
  assert.deepEqual(p.composeFiles, [path.join(TD, 'simple/compose.yaml'), path.join(TD, 'simple/compose-with-overrides.yaml')]);
  const v = loadProject({ files: [path.join(TD, 'simple/compose-with-variables.yaml')], env: {} });
  assert.equal(v.services.simple!.ports[0]!.published, '8000');
  assert.equal(v.environment.PUBLIC_PORT, '8000');
  const overridden = loadProject({ files: [path.join(TD, 'simple/compose-with-variables.yaml')], env: { PUBLIC_PORT: '9999' } });
  assert.equal(overridden.services.simple!.ports[0]!.published, '9999', 'the process environment wins over .env');
});

test('.env sets COMPOSE_FILE and COMPOSE_PROJECT_NAME', { skip }, () => {
  const p = loadProject({ cwd: path.join(TD, 'env-file'), env: {} });
  assert.equal(p.name, 'my_project_from_dot_env');
  assert.deepEqual(p.composeFiles, [path.join(TD, 'env-file/compose-with-env-file.yaml')]);
  assert.equal(p.services.simple!.environment.DEFAULT_PORT, '8080');
});

test('--env-file: later files win', { skip }, () => {
  const d = path.join(TD, 'env-file');
  const p = loadProject({ cwd: d, files: ['compose-with-env-files.yaml'], envFiles: ['.env', 'override.env'], env: {} });
  assert.equal(p.services.simple!.ports[0]!.published, '9000');
  assert.equal(p.services.simple!.environment.DEFAULT_PORT, '9090');
  throwsMsg(() => loadProject({ cwd: d, files: ['compose-with-env-files.yaml'], envFiles: ['missing.env'], env: {} }), /couldn't find env file: .*missing\.env/);
});

test('discovery in parents, override file, COMPOSE_FILE, profiles, --project-directory', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-opts-'));
  try {
    const app = path.join(root, 'My App');
    fs.mkdirSync(path.join(app, 'sub/deeper'), { recursive: true });
    fs.writeFileSync(path.join(app, 'compose.yaml'), 'services:\n  web:\n    image: a\n  dbg:\n    image: b\n    profiles: [debug]\n');
    fs.writeFileSync(path.join(app, 'compose.override.yaml'), 'services:\n  web:\n    image: overridden\n');
    fs.writeFileSync(path.join(app, 'other.yaml'), 'services:\n  x:\n    image: c\n');
    const p = loadProject({ cwd: path.join(app, 'sub/deeper'), env: {} });
    assert.equal(p.name, 'myapp');
    assert.equal(p.workingDir, app);
    assert.equal(p.services.web!.image, 'overridden');
    assert.deepEqual(Object.keys(p.services), ['web']);
    assert.deepEqual(Object.keys(p.disabledServices), ['dbg']);
    assert.deepEqual(Object.keys(loadProject({ cwd: app, env: { COMPOSE_PROFILES: 'debug, other' } }).services), ['dbg', 'web']);
    assert.deepEqual(Object.keys(loadProject({ cwd: app, env: {}, profiles: ['*'] }).services), ['dbg', 'web']);
    const byEnv = loadProject({ cwd: app, env: { COMPOSE_FILE: `compose.yaml:other.yaml` } });
    assert.deepEqual(Object.keys(byEnv.services), ['web', 'x']);
    assert.equal(byEnv.services.web!.image, 'a', 'no override file with COMPOSE_FILE');
    const pd = loadProject({ cwd: root, files: [path.join(app, 'other.yaml')], projectDirectory: 'My App/sub', env: {} });
    assert.equal(pd.workingDir, path.join(app, 'sub'));
    assert.equal(pd.name, 'sub');
    // a directory without a compose file above it: one of its own under root (removed below)
    throwsMsg(() => loadProject({ cwd: fs.mkdtempSync(path.join(root, 'none-')), env: {} }), /^no configuration file provided: not found$/);
    const stdin = loadProject({ cwd: app, files: ['-'], readStdin: () => 'name: fromstdin\nservices:\n  s:\n    image: x\n', env: {} });
    assert.equal(stdin.name, 'fromstdin');
    assert.equal(stdin.workingDir, app);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a project name that normalises to nothing', () => {
  throwsMsg(() => loadProject({ cwd: '/', files: ['-'], readStdin: () => 'services:\n  s:\n    image: x\n', env: {} }), /^project name must not be empty$/);
});
