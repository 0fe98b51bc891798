import { test, beforeEach, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SkiffError } from '../../src/errors.js';
import { DOCKER_HUB_KEY, credentialKey, getCredentials, removeCredentials, storeCredentials } from '../../src/registry/credentials.js';

const saved = { DOCKER_CONFIG: process.env.DOCKER_CONFIG, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR, REGISTRY_AUTH_FILE: process.env.REGISTRY_AUTH_FILE };
const top = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-creds-'));
let dir = '';
let n = 0;
const file = (): string => path.join(dir, 'docker', 'config.json');
const read = (): Record<string, any> => JSON.parse(fs.readFileSync(file(), 'utf8'));
const b64 = (s: string): string => Buffer.from(s).toString('base64');

beforeEach(() => {
  dir = path.join(top, String(n++));
  fs.mkdirSync(dir);
  process.env.DOCKER_CONFIG = path.join(dir, 'docker');
  process.env.XDG_RUNTIME_DIR = path.join(dir, 'run');
  delete process.env.REGISTRY_AUTH_FILE;
});

after(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  fs.rmSync(top, { recursive: true, force: true });
});

test('store, read back, remove; Docker Hub under its historical key', () => {
  assert.equal(getCredentials('docker.io'), undefined);
  storeCredentials('docker.io', 'alice', 'p:a:ss');
  storeCredentials('127.0.0.1:5000', 'bob', 'secret');
  const doc = read();
  assert.deepEqual(doc.auths[DOCKER_HUB_KEY], { auth: b64('alice:p:a:ss') });
  assert.deepEqual(doc.auths['127.0.0.1:5000'], { auth: b64('bob:secret') });
  assert.equal(fs.statSync(file()).mode & 0o777, 0o600);
  assert.deepEqual(getCredentials('docker.io'), { username: 'alice', password: 'p:a:ss' });
  assert.deepEqual(getCredentials('index.docker.io'), { username: 'alice', password: 'p:a:ss' });
  assert.deepEqual(getCredentials('127.0.0.1:5000'), { username: 'bob', password: 'secret' });
  assert.equal(getCredentials('127.0.0.1:5001'), undefined);
  assert.equal(removeCredentials('docker.io'), true);
  assert.equal(removeCredentials('docker.io'), false);
  assert.equal(getCredentials('docker.io'), undefined);
  assert.deepEqual(Object.keys(read().auths), ['127.0.0.1:5000']);
  assert.equal(fs.readdirSync(path.dirname(file())).length, 1, 'no temporary files left');
});

test('other keys of config.json are kept untouched', () => {
  fs.mkdirSync(path.dirname(file()), { recursive: true });
  const original = {
    auths: { 'quay.io': { auth: b64('q:q') } },
    credHelpers: { 'gcr.io': 'gcloud' },
    credsStore: 'desktop',
    proxies: { default: { httpProxy: 'http://proxy:3128' } },
    psFormat: 'table {{.ID}}',
  };
  fs.writeFileSync(file(), JSON.stringify(original));
  storeCredentials('localhost:5000', 'u', 'p');
  const doc = read();
  assert.deepEqual(doc.credHelpers, original.credHelpers);
  assert.equal(doc.credsStore, 'desktop');
  assert.deepEqual(doc.proxies, original.proxies);
  assert.equal(doc.psFormat, original.psFormat);
  assert.deepEqual(doc.auths['quay.io'], original.auths['quay.io']);
  removeCredentials('localhost:5000');
  assert.deepEqual(read(), original);
});

test('Docker\'s other spellings of a server are found, and replaced on login', () => {
  fs.mkdirSync(path.dirname(file()), { recursive: true });
  fs.writeFileSync(file(), JSON.stringify({ auths: {
    'https://registry.example.com/v1/': { auth: b64('old:one') },
    'http://localhost:5000': { username: 'plain', password: 'fields' },
  } }));
  assert.deepEqual(getCredentials('registry.example.com'), { username: 'old', password: 'one' });
  assert.deepEqual(getCredentials('localhost:5000'), { username: 'plain', password: 'fields' });
  storeCredentials('registry.example.com', 'new', 'two');
  assert.deepEqual(Object.keys(read().auths).sort(), ['http://localhost:5000', 'registry.example.com']);
  assert.deepEqual(getCredentials('registry.example.com'), { username: 'new', password: 'two' });
  assert.equal(removeCredentials('localhost:5000'), true);
  assert.equal(credentialKey('registry-1.docker.io'), DOCKER_HUB_KEY);
  assert.equal(credentialKey('https://Quay.io/'), 'quay.io');
});

test('podman\'s auth.json is a fallback', () => {
  const podman = path.join(dir, 'run', 'containers', 'auth.json');
  fs.mkdirSync(path.dirname(podman), { recursive: true });
  fs.writeFileSync(podman, JSON.stringify({ auths: { 'quay.io': { auth: b64('pod:man') }, 'docker.io': { auth: b64('hub:pod') } } }));
  assert.deepEqual(getCredentials('quay.io'), { username: 'pod', password: 'man' });
  assert.deepEqual(getCredentials('docker.io'), { username: 'hub', password: 'pod' });
  storeCredentials('quay.io', 'docker', 'wins');
  assert.deepEqual(getCredentials('quay.io'), { username: 'docker', password: 'wins' });
  const explicit = path.join(dir, 'explicit.json');
  fs.writeFileSync(explicit, JSON.stringify({ auths: { 'ghcr.io': { auth: b64('e:x') } } }));
  process.env.REGISTRY_AUTH_FILE = explicit;
  assert.deepEqual(getCredentials('ghcr.io'), { username: 'e', password: 'x' });
  // removing only touches Docker's file
  assert.equal(removeCredentials('ghcr.io'), false);
});

test('a symlinked config.json is written through; a broken one is not overwritten', () => {
  const real = path.join(dir, 'dotfiles', 'docker.json');
  fs.mkdirSync(path.dirname(real), { recursive: true });
  fs.writeFileSync(real, '{"auths":{}}');
  fs.mkdirSync(path.dirname(file()), { recursive: true });
  fs.symlinkSync(real, file());
  storeCredentials('localhost:5000', 'u', 'p');
  assert.ok(fs.lstatSync(file()).isSymbolicLink());
  assert.deepEqual(JSON.parse(fs.readFileSync(real, 'utf8')).auths['localhost:5000'], { auth: b64('u:p') });

  fs.rmSync(file());
  fs.writeFileSync(file(), '{"auths": {broken');
  assert.equal(getCredentials('localhost:5000'), undefined);
  assert.throws(() => storeCredentials('localhost:5000', 'u', 'p'), (e: unknown) =>
    e instanceof SkiffError && e.code === 'EINVAL' && /^cannot parse .*config\.json: .*\(fix or remove the file, then retry\)$/.test(e.message));
  assert.equal(fs.readFileSync(file(), 'utf8'), '{"auths": {broken');
  assert.throws(() => storeCredentials('x.io', 'a:b', 'p'), /invalid username/);
});
