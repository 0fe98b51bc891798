/** Extra CA certificates handed over by bin/skiff (SKIFF_EXTRA_CA_CERTS) for the registry client's TLS agent. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { registryCa } from '../../src/registry/trust.js';
import { SkiffError } from '../../src/errors.js';

test('registryCa: node roots plus the handed-over file; nothing when node loaded the file itself or none is set', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-trust-'));
  const file = path.join(dir, 'extra.pem');
  const pem = tls.rootCertificates[0]!;
  fs.writeFileSync(file, pem);
  const ca = registryCa({ SKIFF_EXTRA_CA_CERTS: file });
  assert.ok(ca);
  assert.equal(ca.length, tls.rootCertificates.length + 1);
  assert.equal(ca.at(-1), pem);
  assert.equal(registryCa({ SKIFF_EXTRA_CA_CERTS: file, NODE_EXTRA_CA_CERTS: file }), undefined);
  assert.equal(registryCa({}), undefined);
  assert.throws(() => registryCa({ SKIFF_EXTRA_CA_CERTS: path.join(dir, 'missing.pem') }),
    (e: unknown) => e instanceof SkiffError && /NODE_EXTRA_CA_CERTS .*missing\.pem/.test(e.message));
  fs.rmSync(dir, { recursive: true, force: true });
});
