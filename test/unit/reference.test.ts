import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonical, familiar, isInsecureRegistry, parseReference } from '../../src/image/reference.js';

test('references normalise exactly as Docker does', () => {
  const cases: [string, string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['library/busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['foo/bar', 'docker.io/foo/bar:latest', 'foo/bar:latest'],
    ['localhost/x', 'localhost/x:latest', 'localhost/x:latest'],
    ['localhost:5000/x', 'localhost:5000/x:latest', 'localhost:5000/x:latest'],
    ['127.0.0.1:5000/a/b:tag', '127.0.0.1:5000/a/b:tag', '127.0.0.1:5000/a/b:tag'],
    ['quay.io/a/b-c_d.e:v1.2', 'quay.io/a/b-c_d.e:v1.2', 'quay.io/a/b-c_d.e:v1.2'],
  ];
  for (const [input, full, short] of cases) {
    const r = parseReference(input);
    assert.equal(canonical(r), full, input);
    assert.equal(familiar(r), short, input);
  }
});

test('digests: name@digest and name:tag@digest', () => {
  const d = `sha256:${'a'.repeat(64)}`;
  const r = parseReference(`busybox@${d}`);
  assert.equal(r.digest, d);
  assert.equal(r.tag, undefined);
  assert.equal(canonical(r), `docker.io/library/busybox@${d}`);
  const both = parseReference(`busybox:1@${d}`);
  assert.equal(both.tag, '1');
  assert.equal(both.digest, d);
  assert.throws(() => parseReference('busybox@sha256:abc'), /invalid/);
});

test('invalid references are refused with Docker\'s message', () => {
  assert.throws(() => parseReference('Busybox'), /repository name must be lowercase/);
  assert.throws(() => parseReference('a:b:c'), /invalid reference format/);
  assert.throws(() => parseReference(`x:${'t'.repeat(129)}`), /invalid reference format/);
  assert.throws(() => parseReference(''), /invalid reference format/);
  assert.throws(() => parseReference('-bad'), /invalid reference format/);
  assert.throws(() => parseReference('a//b'), /invalid reference format/);
});

test('loopback registries may be plain HTTP; others only when listed', () => {
  assert.ok(isInsecureRegistry('localhost:5000'));
  assert.ok(isInsecureRegistry('127.0.0.1:5000'));
  assert.ok(isInsecureRegistry('127.3.4.5'));
  assert.ok(!isInsecureRegistry('quay.io'));
  process.env.SKIFF_INSECURE_REGISTRIES = 'reg.lan:5000';
  assert.ok(isInsecureRegistry('reg.lan:5000'));
  delete process.env.SKIFF_INSECURE_REGISTRIES;
});
