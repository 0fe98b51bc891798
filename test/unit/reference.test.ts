/**
 * Image references against the cases of Docker's distribution/reference tests
 * (normalize_test.go TestParseRepositoryInfo / TestValidateReferenceName, reference_test.go).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SkiffError } from '../../src/errors.js';
import {
  canonical, familiar, familiarName, isInsecureRegistry, parseReference, registryReference, repoName,
} from '../../src/oci/reference.js';

const H64 = 'f'.repeat(64);
const D = `sha256:${H64}`;

test('references normalise exactly as Docker does', () => {
  const cases: [string, string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['library/busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/ubuntu', 'docker.io/library/ubuntu:latest', 'ubuntu:latest'],
    ['fooo/bar', 'docker.io/fooo/bar:latest', 'fooo/bar:latest'],
    ['docker.io/fooo/bar', 'docker.io/fooo/bar:latest', 'fooo/bar:latest'],
    ['index.docker.io/fooo/bar', 'docker.io/fooo/bar:latest', 'fooo/bar:latest'],
    ['other/library', 'docker.io/other/library:latest', 'other/library:latest'],
    ['library/foo/bar', 'docker.io/library/foo/bar:latest', 'library/foo/bar:latest'],
    ['ubuntu-12.04-base', 'docker.io/library/ubuntu-12.04-base:latest', 'ubuntu-12.04-base:latest'],
    ['localhost/x', 'localhost/x:latest', 'localhost/x:latest'],
    ['localhost/privatebase', 'localhost/privatebase:latest', 'localhost/privatebase:latest'],
    ['localhost:5000/x', 'localhost:5000/x:latest', 'localhost:5000/x:latest'],
    ['localhost:8000/private/moonbase', 'localhost:8000/private/moonbase:latest', 'localhost:8000/private/moonbase:latest'],
    ['127.0.0.1:5000/a/b:tag', '127.0.0.1:5000/a/b:tag', '127.0.0.1:5000/a/b:tag'],
    ['127.0.0.1:8000/privatebase', '127.0.0.1:8000/privatebase:latest', '127.0.0.1:8000/privatebase:latest'],
    ['example.com/private/moonbase', 'example.com/private/moonbase:latest', 'example.com/private/moonbase:latest'],
    ['example.com:8000/privatebase', 'example.com:8000/privatebase:latest', 'example.com:8000/privatebase:latest'],
    ['quay.io/a/b-c_d.e:v1.2', 'quay.io/a/b-c_d.e:v1.2', 'quay.io/a/b-c_d.e:v1.2'],
    ['sub-dom1.foo.com/bar/baz/quux:some-long-tag', 'sub-dom1.foo.com/bar/baz/quux:some-long-tag', 'sub-dom1.foo.com/bar/baz/quux:some-long-tag'],
    ['b.gcr.io/test.example.com/my-app:test.example.com', 'b.gcr.io/test.example.com/my-app:test.example.com', 'b.gcr.io/test.example.com/my-app:test.example.com'],
    ['xn--n3h.com/myimage:xn--n3h.com', 'xn--n3h.com/myimage:xn--n3h.com', 'xn--n3h.com/myimage:xn--n3h.com'],
    // No slash: a colon is a tag, dots are part of the name, the registry is Docker Hub.
    ['test.com:tag', 'docker.io/library/test.com:tag', 'test.com:tag'],
    ['test.com:5000', 'docker.io/library/test.com:5000', 'test.com:5000'],
    ['localhost:5000', 'docker.io/library/localhost:5000', 'localhost:5000'],
    ['192.168.1.1:5000', 'docker.io/library/192.168.1.1:5000', '192.168.1.1:5000'],
    ['foo_bar.com:8080', 'docker.io/library/foo_bar.com:8080', 'foo_bar.com:8080'],
    ['foo/foo_bar.com:8080', 'docker.io/foo/foo_bar.com:8080', 'foo/foo_bar.com:8080'],
    ['192.168.1.1:5000/repo:5050', '192.168.1.1:5000/repo:5050', '192.168.1.1:5000/repo:5050'],
    // An uppercase first component is a registry host, as in Docker.
    ['Foo/bar', 'Foo/bar:latest', 'Foo/bar:latest'],
    ['lowercase:Uppercase', 'docker.io/library/lowercase:Uppercase', 'lowercase:Uppercase'],
    ['[2001:db8::1]/repo', '[2001:db8::1]/repo:latest', '[2001:db8::1]/repo:latest'],
    ['[::1]:5000/repo:tag', '[::1]:5000/repo:tag', '[::1]:5000/repo:tag'],
    ['a__b/c---d', 'docker.io/a__b/c---d:latest', 'a__b/c---d:latest'],
  ];
  for (const [input, full, short] of cases) {
    const r = parseReference(input);
    assert.equal(canonical(r), full, input);
    assert.equal(familiar(r), short, input);
  }
});

test('parts of a reference', () => {
  assert.deepEqual(parseReference('busybox'), { domain: 'docker.io', path: 'library/busybox', tag: 'latest' });
  assert.deepEqual(parseReference('localhost:5000/a/b:1'), { domain: 'localhost:5000', path: 'a/b', tag: '1' });
  const r = parseReference('docker.io/foo/bar:2');
  assert.equal(repoName(r), 'docker.io/foo/bar');
  assert.equal(familiarName(r), 'foo/bar');
  assert.equal(familiarName({ domain: 'docker.io', path: 'library/busybox' }), 'busybox');
  assert.equal(registryReference(r), '2');
  assert.equal(registryReference(parseReference(`x:1@${D}`)), D);
});

test('digests: name@digest and name:tag@digest', () => {
  const r = parseReference(`busybox@${D}`);
  assert.equal(r.digest, D);
  assert.equal(r.tag, undefined);
  assert.equal(canonical(r), `docker.io/library/busybox@${D}`);
  assert.equal(familiar(r), `busybox@${D}`);
  const both = parseReference(`busybox:1@${D}`);
  assert.equal(both.tag, '1');
  assert.equal(both.digest, D);
  assert.equal(familiar(both), `busybox:1@${D}`);
  const local = parseReference(`test:5000/repo:tag@${D}`);
  assert.deepEqual(local, { domain: 'test:5000', path: 'repo', tag: 'tag', digest: D });
  const ipv6 = parseReference(`[2001:db8::1]:5000/repo@${D}`);
  assert.equal(ipv6.domain, '[2001:db8::1]:5000');
  const sha512 = parseReference(`xn--7o8h.com/myimage:xn--7o8h.com@sha512:${'f'.repeat(128)}`);
  assert.equal(sha512.digest, `sha512:${'f'.repeat(128)}`);
});

test('bad digests are refused with go-digest\'s reason', () => {
  assert.throws(() => parseReference('busybox@sha256:abc'), /^Error: invalid reference format: "busybox@sha256:abc"$|invalid reference format/);
  assert.throws(() => parseReference(`busybox@sha256:${'f'.repeat(63)}`), /invalid checksum digest length/);
  assert.throws(() => parseReference(`busybox@sha256:${'F'.repeat(64)}`), /invalid checksum digest format/);
  assert.throws(() => parseReference(`validname@invaliddigest:${H64}`), /unsupported digest algorithm/);
  assert.throws(() => parseReference(`@${D}`), /invalid reference format/);
});

test('invalid references are refused with Docker\'s message', () => {
  const bad = [
    '', ':justtag', 'a:b:c', `x:${'t'.repeat(129)}`, 'x:-tag', 'x:.tag', '-bad', '-docker/docker', '-docker.io/docker/docker',
    'a//b', 'docker///docker', 'docker.io/docker///docker', 'https://github.com/docker/docker', 'aa/asdf$$^/aa',
    'a/_b', 'a___b', 'a_.b', 'a-', '[2001:db8::1]', '[2001:db8::1]:5000', '[fe80::1%eth0]:5000/repo', 'test:port/repo',
    'busybox ', ' busybox',
  ];
  for (const s of bad) {
    assert.throws(() => parseReference(s), (e: unknown) => {
      assert.ok(e instanceof SkiffError, s);
      assert.equal(e.code, 'EINVAL');
      assert.match(e.message, /^invalid reference format/, s);
      assert.ok(!e.message.includes('\n'));
      return true;
    }, s);
  }
  // A tag may be 128 characters, not 129.
  assert.equal(parseReference(`x:${'t'.repeat(128)}`).tag, 't'.repeat(128));
  assert.equal(parseReference('x:_tag').tag, '_tag');
});

test('uppercase repository names are refused', () => {
  for (const s of ['Busybox', 'Foo', 'docker/Docker', 'docker.io/docker/Docker', 'localhost:5000/Foo', 'test:5000/Uppercase/lowercase:tag']) {
    assert.throws(() => parseReference(s), /invalid reference format: repository name must be lowercase/, s);
  }
});

test('64-hex names are image ids, not repositories', () => {
  assert.throws(() => parseReference('1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a'), /cannot specify 64-byte hexadecimal strings/);
  // ...but fine inside a path.
  assert.equal(parseReference('docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a').path,
    'library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a');
});

test('names longer than 255 characters are refused', () => {
  // docker.io/ + 245 characters = 255: fine; one more is too long.
  const ok = `a/${'b'.repeat(243)}`;
  assert.equal(repoName(parseReference(ok)).length, 255);
  assert.throws(() => parseReference(`${ok}b`), /repository name must not be more than 255 characters/);
  assert.throws(() => parseReference(`${'a/'.repeat(128)}a:tag`), /must not be more than 255 characters/);
});

test('loopback registries may be plain HTTP; others only when listed', () => {
  assert.ok(isInsecureRegistry('localhost'));
  assert.ok(isInsecureRegistry('localhost:5000'));
  assert.ok(isInsecureRegistry('127.0.0.1:5000'));
  assert.ok(isInsecureRegistry('127.3.4.5'));
  assert.ok(isInsecureRegistry('[::1]:5000'));
  assert.ok(!isInsecureRegistry('quay.io'));
  assert.ok(!isInsecureRegistry('docker.io'));
  assert.ok(!isInsecureRegistry('127.example.com'));
  assert.ok(!isInsecureRegistry('128.0.0.1:5000'));
  const saved = process.env.SKIFF_INSECURE_REGISTRIES;
  try {
    process.env.SKIFF_INSECURE_REGISTRIES = 'reg.lan:5000, other.lan';
    assert.ok(isInsecureRegistry('reg.lan:5000'));
    assert.ok(!isInsecureRegistry('reg.lan:5001'));
    assert.ok(isInsecureRegistry('other.lan'));
    assert.ok(isInsecureRegistry('other.lan:443'));
  } finally {
    if (saved === undefined) delete process.env.SKIFF_INSECURE_REGISTRIES;
    else process.env.SKIFF_INSECURE_REGISTRIES = saved;
  }
});
